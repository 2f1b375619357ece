# A small static image of Portico: the same binary runs "serve", "mgmt" and
# "gateway". Build: docker build -t portico .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/portico ./cmd/portico

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portico /usr/local/bin/portico
USER nonroot:nonroot
WORKDIR /var/lib/portico
ENV PORTICO_DATA_DIR=/var/lib/portico
# The gateway (8080) and the developer portal (8002) listen on every interface.
# The management API and console (8001) and the ops endpoints (8081) listen on
# the container's loopback by default, unreachable from outside: open them
# with -e PORTICO_MGMT_ADDR=:8001 (serve it over TLS: PORTICO_MGMT_TLS_CERT,
# PORTICO_MGMT_TLS_KEY) and -e PORTICO_OPS_ADDR=:8081 (Kubernetes probes).
EXPOSE 8080 8002 8001 8081
ENTRYPOINT ["/usr/local/bin/portico"]
CMD ["serve"]
