# Stands in for python:3.11-slim (app/Dockerfile's base) where no registry serves it: Debian
# bookworm's Python 3.11 and pip, so that app/Dockerfile builds unchanged. The host's CA bundle is
# copied in because this machine's TLS to PyPI goes through an intercepting proxy.
FROM local/debian:bookworm
COPY host-ca-bundle.crt /etc/ssl/certs/host-ca-bundle.crt
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip
ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt
CMD ["python3"]
