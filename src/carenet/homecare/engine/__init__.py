"""Pure home-care engines: entitlements, orders (state machine, due/overdue, assignment), settlement,
recurring orders, visit plans and verification. Plain Python on plain data; no Django."""
