"""Every model of the files people write, in one place for `from friction.model import ...`:
the policy language (`language`), the manifest (`manifest`), catalogs and cases (`case`),
on what they share (`vocabulary`). The engine imports each from its own module.
"""
from __future__ import annotations

from .case import Case, CaseSpec, Catalog
from .language import ChannelChoice, Condition, DaysChoice, LintOptions, OPERATORS, Rule, Step, When
from .manifest import Attribute, Capacity, ChannelCost, DepartmentCapacity, Manifest, PolicySet, Thresholds
from .metrics import METRICS
from .vocabulary import CUSTOMER_VISIBLE, INTERNAL_CHANNEL, STAFF_ONLY, Cause, Lane, Scalar

__all__ = [
    "Attribute", "Case", "CaseSpec", "Catalog", "Cause", "Condition", "Lane", "LintOptions", "Manifest",
    "METRICS", "OPERATORS", "PolicySet", "Rule", "Scalar", "Step", "Thresholds", "When",
    "CUSTOMER_VISIBLE", "STAFF_ONLY", "INTERNAL_CHANNEL", "Capacity", "DepartmentCapacity", "ChannelCost", "ChannelChoice", "DaysChoice",
]
