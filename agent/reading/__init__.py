"""Reading a reader's message against the catalog: spelling, refusals with a scope, names, time words."""
