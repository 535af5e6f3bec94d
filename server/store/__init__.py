"""The data layer: the engines that answer queries (embedded Oxigraph or a remote SPARQL
store), the embedded store on disk, RDF parsing and bulk loading. The only code that touches
pyoxigraph's store or the remote's HTTP."""
