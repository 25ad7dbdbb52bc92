"""Pure-Python social-assistance engines (no Django imports anywhere in this package).

Modules: money, explain, rules, household, eligibility, workdays, workflow, payroll, notice.
See docs/assistance-rules.md.
"""
