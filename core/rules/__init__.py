"""The rules of the domain, one rule a module. Each check takes the ledger
and a proposed entry and returns every problem it finds (empty: allowed)."""

from core.rules.carry_over import carry_over_proposals
from core.rules.followup import check_followup
from core.rules.fund_limit import check_allocation, check_allocation_end, check_fund
from core.rules.measure import check_measure
from core.rules.needs import check_link, check_link_end, check_need
from core.rules.overdue import is_overdue, overdue_measures
from core.rules.reallocation import check_reallocation
from core.rules.unit_limit import amount_fits, check_measure_funding, unit_unallocated

__all__ = [
    "amount_fits",
    "carry_over_proposals",
    "check_allocation",
    "check_allocation_end",
    "check_followup",
    "check_fund",
    "check_link",
    "check_link_end",
    "check_measure",
    "check_measure_funding",
    "check_need",
    "check_reallocation",
    "is_overdue",
    "overdue_measures",
    "unit_unallocated",
]
