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
EXPOSE 8001 8080 8081
ENTRYPOINT ["/usr/local/bin/portico"]
CMD ["serve"]
