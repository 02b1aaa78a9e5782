library(testthat)
library(locallyconnected)

test_check("locallyconnected")
