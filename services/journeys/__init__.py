"""Journeys (hành trình): staff compose ordered steps through procedures; the public pages,
the printed sheet and the API show each step with its agency, time limit and fee, and the
journey's totals (services.journeys.totals)."""
