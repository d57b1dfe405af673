module github.com/scpool/scpool/examples/go/judge

go 1.24

require github.com/scpool/scpool/bindings/go v0.0.0

replace github.com/scpool/scpool/bindings/go => ../../../bindings/go
