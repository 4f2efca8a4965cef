// The acceptance tests of hactl's native RPC with an off-the-shelf HDFS
// client (github.com/colinmarc/hdfs/v2). A module of its own so that client
// never becomes a dependency of hactl's module; `make test` runs it.
module github.com/hactl/hactl/e2e/nativeclient

go 1.26.8

require (
	github.com/colinmarc/hdfs/v2 v2.4.0
	github.com/hactl/hactl v0.0.0
)

require (
	github.com/hashicorp/go-uuid v1.0.3 // indirect
	github.com/jcmturner/aescts/v2 v2.0.0 // indirect
	github.com/jcmturner/dnsutils/v2 v2.0.0 // indirect
	github.com/jcmturner/gofork v1.7.6 // indirect
	github.com/jcmturner/goidentity/v6 v6.0.1 // indirect
	github.com/jcmturner/gokrb5/v8 v8.4.4 // indirect
	github.com/jcmturner/rpc/v2 v2.0.3 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/hactl/hactl => ../..
