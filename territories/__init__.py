"""Sales territories: units, territories, reps, alignment and metrics."""
