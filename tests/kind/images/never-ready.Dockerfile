# A bad release for tests/kind: it starts and stays up (/health answers 200) but never turns ready.
# The CI app image with DATABASE_URL taken out of gunicorn's environment, so the app's own readiness
# check (/ready: 503, missing DATABASE_URL) fails as it would if the Secret lost that key.
FROM flask-app:ci
CMD ["env", "-u", "DATABASE_URL", "gunicorn", "--config", "gunicorn.conf.py", "app:app"]
