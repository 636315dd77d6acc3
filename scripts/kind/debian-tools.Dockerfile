# Debian with what kube-proxy and the kindnetd stand-in call (iptables, nftables, conntrack, ip).
FROM local/debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iptables nftables conntrack ipset kmod iproute2 curl jq ca-certificates \
    && rm -rf /var/lib/apt/lists/*
