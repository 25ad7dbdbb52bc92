"""Pure facility engines (no Django): registry status machine, evaluation arithmetic, operating subsidy,
bed figures, inspection deadlines and air-quality hysteresis."""
