"""Reading counterexample traces: load (with schema validation), show, replay, HTML."""
