# A bad release for tests/kind: the process exits 1 as soon as it starts, so the kubelet restarts it
# with growing back-off (CrashLoopBackOff) and it never turns ready.
FROM flask-app:ci
CMD ["python", "-c", "import sys; sys.exit('crash-on-start: exiting with status 1 on purpose')"]
