"""What every implementation is: an object built once from a layer's plan."""

from __future__ import annotations

from typing import ClassVar

from locally_connected.plan import Plan


class Implementation:
    """One way to compute `(batch, positions, filters)` from the inputs and the kernel.

    Built at the layer's `build` from its `Plan`, it keeps whatever index tables its
    product needs, so a call does no more than the maths. Every implementation reads the
    same kernel and gives the same function; they differ in speed and memory only.
    """

    #: The value of the layer's `implementation` argument that selects this class.
    number: ClassVar[int | None]
    #: Whether every exporter expresses its ops (else exports compute with `GatheredPatches`).
    exportable: ClassVar[bool] = False

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __call__(self, inputs, kernel):
        raise NotImplementedError

    @classmethod
    def memory_error(cls, plan: Plan) -> str | None:
        """Why this implementation refuses `plan` for its memory, or None."""
        return None

    #: Whether the backend's own graph compiler (torch.compile) traces it without a break
    #: (else compiled calls compute with `GatheredPatches`).
    traceable: bool = True
