"""Pure engines of the civic app (no Django): the seven-step machine for community requests (七单), the
small-wish path (微心愿), the service-item request machine (便民服务事项), working-day deadlines, the council
vote and duplicate suggestion, and masking for the public page."""
