"""Privacy: sessions, the suppression list, erasure, safe exports and the CSV writer."""
