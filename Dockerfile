# Minqing's server in a small image: built with the Rust toolchain alone (libpq, OpenSSL and
# SQLite are compiled in), run as a non-root user on distroless (glibc and CA certificates,
# no shell). Build: docker build -t minqing .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin minqing \
 && cp target/release/minqing /minqing \
 && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /minqing /usr/local/bin/minqing
# Distroless has no shell to make directories in: an empty one, owned by nonroot (65532).
COPY --from=build --chown=65532:65532 /data /var/lib/minqing
# SQLite file and local photos, when no PostgreSQL / S3 is configured.
ENV MINQING_DATA_DIR=/var/lib/minqing \
    MINQING_BIND=0.0.0.0:8080 \
    MINQING_LOG_FORMAT=json
WORKDIR /var/lib/minqing
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/minqing"]
CMD ["serve"]
