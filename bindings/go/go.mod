module github.com/libprivdomain/privdomain-go

go 1.19
