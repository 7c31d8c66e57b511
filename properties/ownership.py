"""Property ``data_ownership``: no step touches state that code on another CPU owns.

The rule itself (who owns each variable, as a predicate over the state at the access) is
part of the model, `model.ownership`, because the step builder emits it as an assertion
before each access (kind ``ownership``); this module names the property and states it.
"""

from __future__ import annotations

from model.ownership import DATA_OWNERSHIP, DATA_OWNERSHIP_DOC

__all__ = ["DATA_OWNERSHIP", "DATA_OWNERSHIP_DOC"]
