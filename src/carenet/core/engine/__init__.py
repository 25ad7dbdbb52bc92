"""Pure helpers shared by the app engines (no Django): the working-day calendar."""
