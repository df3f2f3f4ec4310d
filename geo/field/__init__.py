"""Field work: account queries, the nearest accounts, routes and visits."""
