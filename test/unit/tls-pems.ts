// PEM certificates for the tls area's unit tests, made once with openssl 3 (see the command in each comment).
// Nothing secret: throw-away keys, not kept.

/** openssl req -x509 -newkey rsa:1024 -nodes -days 10 -subj /CN=weak.example.test -addext subjectAltName=DNS:weak.example.test */
export const WEAK_SELF_SIGNED = `-----BEGIN CERTIFICATE-----
MIICMjCCAZugAwIBAgIUGjAng9pzQNbkDE2GR/3K4NjD4IowDQYJKoZIhvcNAQEL
BQAwHDEaMBgGA1UEAwwRd2Vhay5leGFtcGxlLnRlc3QwHhcNMjYxMTI5MDU1NjQ3
WhcNMjYxMjA5MDU1NjQ3WjAcMRowGAYDVQQDDBF3ZWFrLmV4YW1wbGUudGVzdDCB
nzANBgkqhkiG9w0BAQEFAAOBjQAwgYkCgYEAm/NmTKqi8PBwZuN/aeE7QFf6X8ah
papngOaNNNVM3UpKnp3P0ruaBdqANFd0hOkBM81n+THjUuw5qtmweblW2khNV9p8
4uu+EJm+3K42VTZ2kiVyT+xCFYcAB2fvRpV8/U0n/Mn0BGUSlgGhlwpoadBfJjVx
vpfw7cAoAMokKp0CAwEAAaNxMG8wHQYDVR0OBBYEFHAxeBjBvvXPqsnkY9hXzB7n
n6ZkMB8GA1UdIwQYMBaAFHAxeBjBvvXPqsnkY9hXzB7nn6ZkMA8GA1UdEwEB/wQF
MAMBAf8wHAYDVR0RBBUwE4IRd2Vhay5leGFtcGxlLnRlc3QwDQYJKoZIhvcNAQEL
BQADgYEAQ9qzknjx1HThw4CiZHwMTiahvrG5GUKYhhmOWAYFqw3Ct+Ea6846FAuf
61moa+M1hLjCIYUw+zcjWRCCsxJSfPIyTlH0qvcF8bKISNiP3M/LXa0OCTBW8gy4
Aj9/uuf7rGXqx5PWS36psQjISEVnQsBA/cBTbB+ZU6nVJwcMDlk=
-----END CERTIFICATE-----
`;

/** openssl ecparam -name prime256v1 -genkey; openssl req -x509 -new -days 3650 -subj "/CN=Fixture CA" */
export const CA = `-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUAYo5WvxHFaBj50tMuAgL4VcwtswwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKRml4dHVyZSBDQTAeFw0yNjExMjkwNTU2NDdaFw0zNjExMjYw
NTU2NDdaMBUxEzARBgNVBAMMCkZpeHR1cmUgQ0EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASpPvYlnkwCzirmC22Df27cvVQ6iI3qq8/7cPD5BsQkW8Hn2+E79VGT
M6O1Lz5JzZolwRZwQr87e/MHPT+XlQNPo1MwUTAdBgNVHQ4EFgQUQAM2kUpodQuJ
0FllJnQQHe5SyMcwHwYDVR0jBBgwFoAUQAM2kUpodQuJ0FllJnQQHe5SyMcwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA7kHfe0D7S3qvCULt5eEY
/gw8B9z6PUY4m5ejnKaNpM4CIQC3ObWotzNgFRIs2FLEDnLCxOJMteIpOO6wE0vz
BHOFJw==
-----END CERTIFICATE-----
`;

/** openssl ecparam -name secp384r1 -genkey; openssl req -new -subj /CN=web.example.test; openssl x509 -req -CA ca.pem -days 90 (subjectAltName=DNS:web.example.test) */
export const LEAF = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVSgAwIBAgIUOcSvGhk6TTrXXxx71eAQajixUUwwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKRml4dHVyZSBDQTAeFw0yNjExMjkwNTU2NDdaFw0yNzAyMjcw
NTU2NDdaMBsxGTAXBgNVBAMMEHdlYi5leGFtcGxlLnRlc3QwdjAQBgcqhkjOPQIB
BgUrgQQAIgNiAAQPDSjz44jJGzVpdaQpuRrkaVfnLPU9/VDQpSfa2dxgv32r+DgG
EdSnDUiKxNlztWTZt8GZ+HiEQMhRFmNLjkGbsOezEOmoLmooVagRx4tOhBANMwTd
obTZi0EbaGbRBRWjXzBdMBsGA1UdEQQUMBKCEHdlYi5leGFtcGxlLnRlc3QwHQYD
VR0OBBYEFDC9XQXQw8B7mk7JlmxcC8mOnQKAMB8GA1UdIwQYMBaAFEADNpFKaHUL
idBZZSZ0EB3uUsjHMAoGCCqGSM49BAMCA0gAMEUCIQD6Ek6eiVhvKo6PlNCfI4Zs
sih0eFGbZso70bXW1OkBFwIgCLPTjR9/wDu3dWe8E4PRon3dMIIgNpUxSzQ10kd6
c5k=
-----END CERTIFICATE-----
`;
