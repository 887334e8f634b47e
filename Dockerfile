# Kinderflow application image: the API (default), `kinderflow worker` and `kinderflow beat`.
# Configuration comes only from KINDERFLOW_* environment variables (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# LibreOffice (headless Writer) converts rendered .docx to PDF; Noto CJK renders the Chinese text;
# SoftHSM2 is the PKCS#11 token that holds the signing keys unless KINDERFLOW_PKCS11_MODULE names
# another HSM's module (mount it into the container).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk softhsm2 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged runtime user. Its home is writable (LibreOffice keeps a profile there) and so is
# the working directory (embedded-mode var/, celery beat's schedule file); the code is not. The
# softhsm group reads SoftHSM2's configuration and writes its tokens (/var/lib/softhsm/tokens).
RUN groupadd --system --gid 10001 kinderflow \
    && useradd --system --uid 10001 --gid kinderflow --create-home --home-dir /home/kinderflow \
        --shell /usr/sbin/nologin kinderflow \
    && install -d -o kinderflow -g kinderflow -m 0750 /var/lib/kinderflow \
    && usermod -a -G softhsm kinderflow

WORKDIR /src
COPY . .
RUN pip install . \
    && rm -rf build *.egg-info

WORKDIR /var/lib/kinderflow
USER kinderflow:kinderflow

EXPOSE 8000
CMD ["kinderflow", "serve", "--host", "0.0.0.0", "--port", "8000"]
