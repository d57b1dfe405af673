module github.com/scpool/scpool/bindings/go

go 1.24
