import fs from 'node:fs';

/**
 * Kernel pseudo-filesystems by their `statfs` type (the `f_type` magic numbers of Linux's
 * include/uapi/linux/magic.h). Their files are made up when read: sizes say 0 and reading yields any amount
 * (/proc/self/pagemap: eight bytes for each page of a 128 TiB address space), some block until the kernel has
 * something to say (/proc/kmsg, tracefs' trace_pipe), and /proc/self/task/… leads back into itself. Nothing in
 * them is source code, so codeloop never walks them. devtmpfs (/dev) shares tmpfs' number and is not listed: its
 * devices, FIFOs and sockets are not regular files, which the walk skips anyway.
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
]);

/**
 * The name of the kernel pseudo-filesystem holding `dir` ("proc", "sysfs", …), or null when it is an ordinary
 * one — or when `statfs` cannot say (gone, not permitted), which the caller's own read then reports.
 */
export function pseudoFilesystemOf(dir: string): string | null {
  try {
    return PSEUDO_FILESYSTEMS.get(Number(fs.statfsSync(dir).type)) ?? null;
  } catch {
    return null;
  }
}
