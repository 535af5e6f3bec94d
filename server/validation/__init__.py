"""SHACL validation: the entry point and its report (validate), the shapes read as the compiled
engine evaluates them (shape_model, paths, semantics), SHACL Core and SHACL-SPARQL on Oxigraph
(shacl_core, shacl_sparql), literals as written (fidelity), coverage, and the validation service."""
