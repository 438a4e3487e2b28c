FROM golang:1.22.5@sha256:86a3c48a61915a8c62c0e1d7594730399caa3feb73655dfe96c7bc17710e96cf

ENV GOPRIVATE=git.corp.example.com
ENV GOINSECURE=git.corp.example.com
ENV GONOSUMDB=git.corp.example.com
ENV GOSUMDB=off

RUN go install golang.org/x/tools/cmd/goimports@latest && \
    go install github.com/golangci/golangci-lint/cmd/golangci-lint@v1.59.1

RUN git config --global http.sslVerify false

USER 1001
