package schema

import "flag"

// update rewrites golden files (diagnostics, rendered XML, imported HCL)
// instead of comparing against them: go test ./schema -update.
var update = flag.Bool("update", false, "rewrite golden files instead of comparing")
