module example.com/hallmark/fixture

go 1.22

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/text v0.14.0
)

require (
	github.com/go-playground/validator/v10 v10.14.0 // indirect
	golang.org/x/net v0.10.0 // indirect
)
