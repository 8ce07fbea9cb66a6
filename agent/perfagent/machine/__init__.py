"""Machine facts: the kernel and sysfs readers, the hardware fingerprint, the doctor."""
