"""The SPARQL 1.1 protocols: reading a request, guarding a query, the endpoint, the Graph
Store Protocol and the Service Description."""
