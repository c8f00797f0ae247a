"""Deploys: plan, lock, migrate, roll out, verify, record — per environment."""
