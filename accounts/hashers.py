from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOwaspHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's first recommended configuration (m=19 MiB, t=2, p=1).

    Django's defaults (m=100 MiB, p=8) cost ~0.2 s of CPU per hash on a 2-core
    machine, which alone would eat the signup budget and turn login bursts into a
    denial of service; OWASP's Password Storage Cheat Sheet lists this configuration
    as equivalent in strength for Argon2id. Hashes made with other parameters still
    verify and are upgraded on the next sign-in.
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
