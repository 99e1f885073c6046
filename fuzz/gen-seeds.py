#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the hand-made seed inputs of fuzz/corpus/<target>/seed-* (the encodings are the ones the
# fuzz-<target>.c headers document). Re-run after changing an encoding; the fuzzer's own finds
# and regression inputs (other names) are kept.
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v & 0xffff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)


SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
# fz_vtd_config bytes: legacy aw48 / scalable aw48 all on / scalable aw57 with dt
LEGACY = u8(0x02) + u8(0)
SCALABLE = u8(0x23) + u8(19)
SCALABLE_DT = u8(0x25) + u8(0x80 | 7)
SCALABLE_FS_ONLY = u8(0x13) + u8(3)  # slts=off: first stage only

GCMD, GSTS, RTADDR, CCMD, FSTS, FECTL = 0x18, 0x1c, 0x20, 0x28, 0x34, 0x38
IQH, IQT, IQA, ICS, IECTL, IVA, IOTLB, FRCD = 0x80, 0x88, 0x90, 0x9c, 0xa0, 0xf0, 0xf8, 0x220
TE, SRTP, QIE = 1 << 31, 1 << 30, 1 << 26


# ---- vtd-regs ops ----
def r_read(off, size): return u8(0) + u8(SIZE[size]) + u16(off)
def r_write(off, val, size): return u8(1) + u8(SIZE[size]) + u16(off) + u64(val)
def r_poke(gpa, val): return u8(2) + u32(gpa) + u64(val)
def r_dma(sid, pasid, access, iova, length):
    return u8(3) + u16(sid) + u32(pasid) + u8(access) + u64(iova) + u16(length - 1)
def r_gcmd(bit, on): return u8(4) + u8(bit - 23) + u8(on)


def legacy_tables(poke, root=0x1000, ctx=0x2000, sl=0x3000, target=0x20000, sid=8, iova=0x10000):
    """Root -> context (devfn 8, 4-level, DID 1) -> 4-level second stage mapping iova."""
    s = poke(root, ctx | 1)
    s += poke(ctx + 16 * sid, sl | 1) + poke(ctx + 16 * sid + 8, 2 | (1 << 8))
    s += poke(sl, (sl + 0x1000) | 3) + poke(sl + 0x1000, (sl + 0x2000) | 3)
    s += poke(sl + 0x2000, (sl + 0x3000) | 3)
    s += poke(sl + 0x3000 + 8 * ((iova >> 12) & 511), target | 3)
    return s


def sm_tables(poke, pgtt, root=0x1000, ctx=0x2000, pdir=0x3000, ptab=0x4000, sl=0x5000, fl=0x9000,
              target=0x20000, sid=8, pasid=0, iova=0x10000):
    """Scalable: root -> SM context (devfn 8) -> PASID dir/table -> first/second stage."""
    s = poke(root, ctx | 1)
    s += poke(ctx + 32 * sid, pdir | 1) + poke(ctx + 32 * sid + 8, pasid)
    s += poke(pdir + 8 * (pasid >> 6), ptab | 1)
    pe = ptab + 64 * (pasid & 63)
    s += poke(pe, 1 | (2 << 2) | (pgtt << 6) | (sl if pgtt in (2, 3) else 0))
    s += poke(pe + 8, 1)
    s += poke(pe + 16, fl if pgtt in (1, 3) else 0)
    for base, flags in ((sl, 3), (fl, 7)):
        s += poke(base, (base + 0x1000) | flags) + poke(base + 0x1000, (base + 0x2000) | flags)
        s += poke(base + 0x2000, (base + 0x3000) | flags)
        s += poke(base + 0x3000 + 8 * ((iova >> 12) & 511), target | flags)
    return s


def vtd_regs_seeds():
    seeds = {}
    # Every register read at every width, every 4 bytes of the window.
    s = LEGACY
    for off in range(0, 0x2a0, 4):
        s += r_read(off, 4)
    seeds['read-all-32'] = s
    s = SCALABLE
    for off in range(0, 0x2a0, 8):
        s += r_read(off, 8) + r_read(off + 1, 1) + r_read(off + 2, 2)
    seeds['read-all-mixed'] = s
    s = SCALABLE
    for off in range(0, 0x2a0, 8):
        s += r_write(off, 0xffffffffffffffff, 8)
    seeds['write-all-ones'] = s
    s = LEGACY
    for off in range(0xff0, 0x1000):
        s += r_write(off, 0x5a5a5a5a5a5a5a5a, 8) + r_read(off, 8)
    seeds['window-end'] = s
    for name, cfg in (('legacy', LEGACY), ('scalable', SCALABLE)):
        s = cfg + legacy_tables(r_poke) if name == 'legacy' else cfg + sm_tables(r_poke, 2)
        s += r_write(RTADDR, 0x1000 | (0x400 if name == 'scalable' else 0), 8) + r_gcmd(30, 1)
        s += r_gcmd(31, 1) + r_dma(8, 0, 1, 0x10000, 64) + r_dma(8, 0, 2, 0x10ff0, 64)
        s += r_dma(0x10, 0, 1, 0x10000, 4) + r_read(FRCD + 8, 8) + r_read(FSTS, 4)
        s += r_write(CCMD, (1 << 63) | (1 << 61), 8) + r_write(IOTLB, (1 << 63) | (1 << 60), 8)
        s += r_write(FRCD + 8, 1 << 63, 8) + r_write(FSTS, 0x7f, 4)
        seeds['dma-' + name] = s
    # Fault recording overflow: TE with a root table of zeros, 12 faulting requesters.
    s = LEGACY + r_write(FECTL, 0, 4) + r_write(RTADDR, 0x1000, 8) + r_gcmd(30, 1) + r_gcmd(31, 1)
    for sid in range(12):
        s += r_dma(sid, 0, 1, 0x1000 * sid, 4)
    s += r_read(FSTS, 4) + r_write(FSTS, 1, 4)
    for i in range(8):
        s += r_write(FRCD + 16 * i + 12, 0x80000000, 4)
    seeds['fault-overflow'] = s
    # Queued invalidation through the window: wait with SW + IF.
    s = SCALABLE + r_write(IECTL, 0, 4) + r_poke(0x8000, 5 | (1 << 4) | (1 << 5) | (0x77 << 32))
    s += r_poke(0x8008, 0x9000) + r_write(IQA, 0x8000, 8) + r_gcmd(26, 1) + r_write(IQT, 16, 8)
    s += r_read(ICS, 4) + r_write(ICS, 1, 4) + r_read(IQH, 8)
    seeds['qi-wait'] = s
    # Root table outside RAM and in the MMIO window itself.
    s = SCALABLE + r_write(RTADDR, 0xfed90000 | 0x400, 8) + r_gcmd(30, 1) + r_gcmd(31, 1)
    s += r_dma(8, 0, 1, 0, 8) + r_write(RTADDR, 0xc00 | (1 << 51), 8) + r_gcmd(30, 1)
    s += r_dma(8, 5, 9, 0, 8)
    seeds['root-outside-ram'] = s
    return seeds


# ---- vtd-qi ----
def qi_desc(q0, q1, wide=False, q2=0, q3=0):
    return u64(q0) + u64(q1) + ((u64(q2) + u64(q3)) if wide else b'')


def qi_input(cfg, qbyte, descs, ops=b''):
    body = b''.join(descs)
    return cfg + u8(qbyte) + u8(len(body) // 16) + body + ops


def vtd_qi_seeds():
    wait = qi_desc(5 | (1 << 5) | (0xabcd << 32), 0x10000)
    wait_if = qi_desc(5 | (1 << 4) | (1 << 5) | (0x1 << 32), 0x10004)
    cc = [qi_desc(1 | (g << 4) | (1 << 16) | (8 << 32), 0) for g in (1, 2, 3)]
    iotlb = [qi_desc(2 | (g << 4) | (1 << 16), 0x10000 | am) for g in (1, 2, 3) for am in (0, 9)]
    dev = [qi_desc(3 | (8 << 32), 0x10000 | 1), qi_desc(8 | (8 << 16) | (5 << 32), 0x10000 | 1 | (1 << 11))]
    piotlb = [qi_desc(6 | (g << 4) | (1 << 16) | (5 << 32), 0x10000 | 3) for g in (2, 3)]
    pc = [qi_desc(7 | (g << 4) | (1 << 16) | (5 << 32), 0) for g in (0, 1, 3)]
    seeds = {
        'legacy-all': qi_input(LEGACY, 0, cc + iotlb + [qi_desc(4, 0), wait]),
        'scalable-all': qi_input(SCALABLE_DT, 8, cc + iotlb + dev + piotlb + pc + [wait_if]),
        'wait-sw-if': qi_input(SCALABLE, 4, [wait_if, wait_if],
                               u8(0) + u16(2) + u8(6) + u8(0) + u16(1)),
        'bad-type': qi_input(SCALABLE, 0, [qi_desc(0, 0), qi_desc(9, 0), qi_desc(0x205, 0)]),
        'reserved': qi_input(SCALABLE, 0, [qi_desc(1 | (1 << 4) | (1 << 63), 0),
                                           qi_desc(2 | (1 << 4), 1 << 8),
                                           qi_desc(5 | (1 << 5), 0x10001)]),
        'status-outside': qi_input(LEGACY, 0, [qi_desc(5 | (1 << 5), 0xfed90000),
                                               qi_desc(5 | (1 << 5), 1 << 60)]),
        'tail-beyond': qi_input(LEGACY, 0, [wait], u8(0) + u16(0x200) + u8(1) + u8(0x10) + u8(0) + u16(1)),
    }
    # 256-bit descriptors, misaligned tail, then a wrap with garbage at the queue end.
    wide_wait = qi_desc(5 | (1 << 5) | (2 << 32), 0x10008, True)
    seeds['wide'] = qi_input(SCALABLE, 2, [wide_wait, qi_desc(2 | (1 << 4), 0, True, 1, 0)],
                             u8(0) + u16(1) + u8(1) + u8(0x10))
    ops = b''
    for i in range(16):
        ops += u8(2) + u16(4096 // 8 - 2 + (i & 1)) + u64(0xdeadbeefcafe0000 | i)
    ops += u8(0) + u16(255) + u8(0) + u16(0) + u8(0) + u16(2) + u8(1) + u8(0x10) + u8(0) + u16(3)
    seeds['wrap-garbage'] = qi_input(LEGACY, 0, [wait] * 4, ops)
    return seeds


# ---- vtd-xlate ----
def x_poke(gpa, val): return u8(0) + u16(gpa) + u64(val)
def x_tr(sid, pasid, access, iova): return u8(1) + u16(sid) + u32(pasid) + u8(access) + u64(iova)
def x_fill(page, val): return u8(2) + u8(page) + u64(val)


def vtd_xlate_seeds():
    seeds = {}
    s = LEGACY + u64(0x1000) + legacy_tables(x_poke)
    s += x_tr(8, 0, 1, 0x10000) + x_tr(8, 0, 3, 0x10000) + x_tr(9, 0, 1, 0x10000) + x_tr(8, 0, 1, 1 << 47)
    s += u8(4) + u8(2) + u16(1) + u64(0x10000) + u8(0) + x_tr(8, 0, 1, 0x10000)
    seeds['legacy'] = s
    for pgtt, name in ((1, 'first'), (2, 'second'), (3, 'nested'), (4, 'pt')):
        s = SCALABLE + u64(0x1000 | 0x400) + sm_tables(x_poke, pgtt)
        s += x_tr(8, 0, 1, 0x10000) + x_tr(8, 0x80000000, 3, 0x10000) + x_tr(8, 0x80000005, 1, 0)
        s += u8(5) + u8(0) + u16(1) + u32(0) + u64(0x10000) + u8(0) + x_tr(8, 0, 1, 0x10000)
        s += u8(5) + u8(1) + u16(1) + u32(0) + u64(0) + u8(0) + x_tr(8, 0, 1, 0x10000)
        seeds['sm-' + name] = s
    # Tables pointing at themselves (cycles), outside RAM, and reserved bits at every level.
    s = LEGACY + u64(0x1000) + x_poke(0x1000, 0x2000 | 1) + x_poke(0x2000 + 128, 0x3000 | 1)
    s += x_poke(0x2000 + 136, 2) + x_fill(3, 0x3000 | 3) + x_tr(8, 0, 1, 0x123456789)
    s += x_fill(3, 0x3000 | 3 | (1 << 7)) + u8(7) + x_tr(8, 0, 1, 0x40000000)
    s += x_fill(3, (1 << 51) | 3) + u8(7) + x_tr(8, 0, 1, 0)
    s += x_fill(3, 0xfed90000 | 3) + u8(7) + x_tr(8, 0, 1, 0)
    for bit in (3, 4, 5, 6, 8, 9, 10, 11, 52, 62):
        s += x_fill(3, 0x4000 | 3 | (1 << bit)) + u8(7) + x_tr(8, 0, 3, 0x5000)
    seeds['legacy-cycles-rsvd'] = s
    s = SCALABLE + u64(0x1000 | 0x400) + sm_tables(x_poke, 1)
    for pdts in range(8):  # PASID directory sizes: 2^(7+pdts) entries
        s += x_poke(0x2000 + 32 * 8, 0x3000 | 1 | (pdts << 9)) + u8(7)
        s += x_tr(8, 0x80000000 | ((1 << (7 + pdts)) * 64 - 1), 1, 0x10000)
        s += x_tr(8, 0x80000000 | ((1 << (7 + pdts)) * 64), 1, 0x10000)
    s += x_fill(4, 0xffffffffffffffff) + u8(7) + x_tr(8, 0x80000001, 1, 0)
    s += x_fill(3, 0x3000 | 1) + u8(7) + x_tr(8, 0x800fffff, 1, 0)
    seeds['sm-pasid-limits'] = s
    return seeds


# ---- pci-config ----
def p_port(off, size, w, val): return u8(0) + u8(off) + u8(SIZE[size]) + u8(w) + u32(val)
def p_cfg(slot_sel, off, size, w, val): return u8(2) + u8(slot_sel) + u16(off) + u8(SIZE[size]) + u8(w) + u32(val)


def pci_seeds():
    seeds = {}
    for sel, name in ((0, 'host'), (1, 'edu'), (2, 'syn')):
        s = b''
        for off in range(0, 0x180, 4):
            s += p_cfg(sel, off, 4, 1, 0xffffffff) + p_cfg(sel, off, 4, 0, 0)
        seeds['cfg-ones-' + name] = s
    s = b''
    for slot in (0, 3, 5):
        s += p_port(0, 4, 1, 0x80000000 | (slot << 11)) + p_port(4, 4, 0, 0)
        s += p_port(6, 2, 0, 0) + p_port(7, 1, 1, 0x55)
    s += p_port(1, 1, 1, 0x06) + p_port(1, 1, 0, 0)
    seeds['cf8'] = s
    # BAR sizing and moves, MSI-X table access, interrupts, reset.
    s = p_cfg(2, 0x10, 4, 1, 0xffffffff) + p_cfg(2, 0x10, 4, 0, 0) + p_cfg(2, 0x10, 4, 1, 0xc0010000)
    s += p_cfg(2, 4, 2, 1, 7) + u8(3) + u32(0x10000) + u8(2) + u8(1) + u64(0x12345678)
    s += p_cfg(2, 0x18, 4, 1, 0xc0020000) + p_cfg(2, 0x1c, 4, 1, 0)
    s += u8(3) + u32(0x20000) + u8(2) + u8(1) + u64(0xfee00000) + u8(3) + u32(0x2000c) + u8(2) + u8(1) + u64(0)
    s += u8(5) + u8(0) + u8(1) + u8(5) + u8(0) + u8(0) + u8(6)
    seeds['bars-msix'] = s
    return seeds


# ---- edu ----
def edu_seeds():
    reg = lambda i, v, wide=False: u8(2) + u8(i | (0x80 if wide else 0)) + u64(v)
    dma = lambda src, dst, cnt, cmd: u8(3) + u32(src) + u32(dst) + u16(cnt) + u8(cmd)
    return {
        'regs': u8(0x03) + reg(1, 0x1234) + reg(2, 10) + reg(3, 0x80) + reg(2, 40) + reg(5, 1)
                + reg(6, 0xffffffff) + u8(0) + u32(0) + u8(2) + u8(0) + u32(0x8) + u8(2),
        'dma': u8(0x07) + u8(5) + u32(0x1000) + u64(0x1122334455667788)
               + dma(0x1000, 0x40000, 64, 4) + dma(0x40000, 0x2000, 64, 6)
               + dma(0x40ff0, 0x3000, 0x100, 2) + dma(0xffff0, 0x40000, 0x1000, 0)
               + dma(0xfffffff0, 0x40000, 0x20, 0),
        'dma-iommu': u8(0x13) + dma(0x80000, 0x40000, 0x1000, 4) + dma(0x40000, 0x7f800, 0x1000, 6)
                     + u8(4) + u16(0x400),
        'sizes': u8(0x01) + b''.join(u8(k) + u32(off) + u8(sz) + u64(0xffffffff)
                                     for off in (0, 1, 2, 4, 0x80, 0x84, 0x98, 0x9c, 0xfffff)
                                     for k in (0, 1) for sz in range(4)),
    }


# ---- boot ----
def boot_seeds():
    seeds = {}
    # Minimal multiboot a.out-kludge image: header at 0, load at 1 MiB.
    mb = bytearray(8192)
    flags = 0x00010003
    hdr = struct.pack('<IIIIIIII', 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xffffffff,
                      0x100000, 0x100000, 0x102000, 0x103000, 0x100020)
    mb[0:len(hdr)] = hdr
    mb[0x20] = 0xf4  # hlt
    seeds['multiboot-aout'] = u8(0x01) + bytes(mb)
    # Minimal ELF32 multiboot image with one PT_LOAD segment.
    elf = bytearray(0x200)
    elf[0:16] = b'\x7fELF\x01\x01\x01' + bytes(9)
    struct.pack_into('<HHIIIIIHHHHHH', elf, 16, 2, 3, 1, 0x100000, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    struct.pack_into('<IIIIIIII', elf, 52, 1, 0x100, 0x100000, 0x100000, 0x100, 0x1000, 5, 0x1000)
    mbh = struct.pack('<III', 0x1BADB002, 3, (-(0x1BADB002 + 3)) & 0xffffffff)
    elf[0x100:0x100 + 12] = mbh
    seeds['multiboot-elf32'] = u8(0x06) + bytes(elf)
    # Minimal bzImage: setup header with HdrS, protocol 2.15, 64-bit entry, relocatable.
    bz = bytearray(0x1000 + 0x400)
    bz[0x1f1] = 1  # setup_sects
    struct.pack_into('<H', bz, 0x1fe, 0xaa55)
    bz[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', bz, 0x206, 0x020f)
    bz[0x211] = 0x01  # loadflags: LOADED_HIGH
    struct.pack_into('<I', bz, 0x218, 0)
    struct.pack_into('<I', bz, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into('<I', bz, 0x230, 0x200000)  # kernel_alignment
    bz[0x234] = 1  # relocatable
    struct.pack_into('<H', bz, 0x236, 0x3)  # xloadflags: XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    struct.pack_into('<I', bz, 0x238, 2048)  # cmdline_size
    struct.pack_into('<Q', bz, 0x258, 0x1000000)  # pref_address
    struct.pack_into('<I', bz, 0x260, 0x800000)  # init_size
    seeds['bzimage'] = u8(0x05) + bytes(bz)
    seeds['bzimage-longcmd'] = u8(0x0b) + bytes(bz)
    seeds['garbage'] = u8(0) + b'\x7fELF' + bytes(60)
    return seeds


# ---- cli ----
def cli_seeds():
    a = lambda *args: b'\0'.join(x.encode() for x in args)
    return {
        'run': a('run', '-kernel', 'k.elf', '-m', '512M', '-smp', '4', '-device', 'vtd,mode=scalable,aw=57',
                 '-device', 'edu,addr=4', '-initrd', 'a,b,c', '-append', 'console=ttyS0', '--timing'),
        'legacy': a('run', '-kernel', 'k', '-device', 'vtd,mode=legacy,pt=off,cm=on', '-m', '1G',
                    '--hugepages', '-v', '-v', '-v', '--trace', 'vtd'),
        'bad': a('run', '-kernel', 'k', '-m', '99999999999999999999G', '-smp', '0x10',
                 '-device', 'edu,addr=', '-device', ',,,'),
        'help': a('--help'),
        'sizes': a('run', '-kernel', 'k', '-m', '4096K', '-device', 'vtd,pasid-bits=21,nest=on,flts=off'),
    }


# ---- pasid-dma ----
def pasid_dma_seeds():
    def desc(slot, words):
        return b''.join(u8(3) + u8(slot) + u8(i) + u64(w) for i, w in enumerate(words) if w)
    ops = (desc(0, [1, 0x20000, 0x21000, 256, 0, 0x30000])
           + desc(1, [2, 0, 0x22000, 4096, 0x1122334455667788, 0x30020])
           + desc(2, [3, 0x20000, 0x21000, 256, 0, 0x30040]) + desc(3, [4, 0x20000, 0, 8192, 0, 0x30060])
           + desc(4, [0x99, 0, 0, 0, 0, 0x30080])
           + desc(5, [1 | (1 << 8) | (5 << 32), 0x20000, 0x21000, 64, 0, 0x300a0])
           + desc(6, [1, 0x3fff0, 0x20000, 0x100, 0, 0x300c0])  # runs off the end of RAM
           + desc(7, [1, 0x20000, 0x21000, 2 << 20, 0, 0x300e0])  # length above the maximum
           + u8(4) + u16(8) + u8(0) + u16(0x24) + u8(2) + u8(2) + u8(5) + u32(0x100))
    return {
        'ring': u8(0x06) + u8(0x07) + ops,
        'blocked': u8(0x02) + u8(0x13) + desc(0, [1, 0x20000, 0x21000 | 0x20000, 4096, 0, 0x30000])
                   + u8(4) + u16(1),
        'regs': u8(0x1e) + u8(0x0f) + b''.join(u8(0) + u16(o) + u8(2) for o in range(0, 0x70, 4))
                + b''.join(u8(1) + u16(o) + u8(2) + u32(0xffffffff) for o in range(0, 0x70, 4)),
        'config': u8(0x1e) + u8(0x03)
                  + b''.join(u8(6) + u16(o) + u8(2) + u32(0xffffffff) for o in range(0, 0x200, 4)),
        'wrap': u8(0x00) + u8(0x03) + u8(2) + u8(3) + u32(1) + desc(0, [0, 0, 0, 0, 0, 0x30000])
                + u8(4) + u16(1) + u8(4) + u16(0) + u8(4) + u16(0xffff) + u8(2) + u8(0) + u32(0x80000000),
    }


# ---- vtd-ir ----
def vtd_ir_seeds():
    def irte(idx, vec, dst, flags, sid=0, sqsvt=0):
        return u8(1) + u8(idx) + u8(vec) + u32(dst) + u8(flags) + u16(sid) + u8(sqsvt)
    def msi(addr, data, sid, b=0): return u8(5) + u32(addr) + u32(data) + u16(sid) + u8(b)
    def handle(i): return 0xfee00000 | (1 << 4) | ((i & 0x7fff) << 5) | (((i >> 15) & 1) << 2)
    def iec(qw0): return u8(4) + u64(qw0) + u64(0)
    def ioapic(reg, val, pin): return u8(6) + u8(reg) + u32(val) + u8(pin)
    xapic = irte(5, 0x40, 0x0100, 1, 0x0008, 1 << 2)  # P, dest APIC 1, SVT=1 SID 00:01.0
    return {
        # remapped, wrong SID (0x22), IEC global, then a not-present entry (0x22 / 0x25)
        'legacy-xapic': u8(0) + xapic + msi(handle(5), 0, 0x0008) + msi(handle(5), 0, 0x0010)
                        + iec(0) + irte(5, 0x41, 0x0100, 0) + msi(handle(5), 0, 0x0008)
                        + iec(1 << 4 | (5 << 32)) + msi(handle(5), 0, 0x0008),
        # x2APIC destinations, SHV + subhandle, index beyond the table, reserved data bits
        'eim': u8(3) + irte(7, 0x50, 0x12345678, 1 | 4) + msi(handle(4) | 8, 3, 0x0008)
               + msi(handle(300), 0, 0x0008) + msi(handle(4) | 8, 0x10003, 0x0008)
               + u8(2) + u64(0x10000 | 0xf | (1 << 11)) + msi(handle(40000), 0, 0),
        # IOAPIC pin 3 in remappable format (handle 9) and compatibility format, CFI on/off
        'ioapic': u8(0) + irte(9, 0x33, 0x0000, 1 | 0x10, 0x00f8, 1 << 2)
                  + ioapic(0x17, (1 << 16) | (9 << 17), 3) + ioapic(0x16, 0x8033, 3)
                  + u8(3) + u8(2 | 4) + ioapic(0x16, 0x8033, 3) + msi(0xfee01000, 0x31, 0x10)
                  + u8(3) + u8(2) + msi(0xfee01000, 0x31, 0x10),
        # faults until overflow, then clearing them; IRE off / on; fault-processing disable
        'faults': u8(0) + b''.join(msi(handle(i), 0, 0x8) for i in range(12))
                  + irte(2, 0x20, 0, 1 | 2) + msi(handle(2), 0, 0x99) + u8(7) + u8(0xff)
                  + u8(3) + u8(1) + msi(handle(2), 0, 0x8) + u8(3) + u8(1 | 4),
    }


# ---- vtd-prq ----
def vtd_prq_seeds():
    def req(dev, pasid, addr, acc, grp, last):
        return u8(0) + u8(dev) + u32(pasid) + u64(addr) + u8(acc) + u16(grp | (0x200 if last else 0))
    def answer(idx, code): return u8(3) + u8(idx) + u8(code)
    return {
        # two groups of dev 0 (with PASID 5 and without), answered from the records
        'groups': u8(0) + req(0, 0x80000005, 0x1000, 1, 3, False) + req(0, 0x80000005, 0x2000, 3, 3, True)
                  + req(0, 0, 0x3000, 2, 7, True) + answer(1, 0) + answer(2, 1) + answer(2, 1)
                  + u8(1) + u8(1) + u8(2) + u8(3) + u8(0),
        # devices 2 (no PRE) and 3 (absent): refused; made-up responses; device-TLB flushes
        'refused': u8(1) + req(2, 0, 0x1000, 1, 1, True) + req(3, 0, 0x1000, 1, 1, True)
                   + u8(3) + u8(0xff) + u16(0x10) + u32(0) + u16(1) + u8(0)
                   + u8(5) + u64(0x3 | (0x8 << 16)) + u64(0x7ffff000 | 0x800)
                   + u8(5) + u64(0x18 | (0x8 << 16) | (5 << 32)) + u64(0xfffffffffffff801),
        # fill a 4 KiB queue (127 records) until PRO, consume, clear PRO, ask again
        'overflow': u8(0) + b''.join(req(1, 0, 0x1000 * i, 1, i, True) for i in range(130))
                    + u8(1) + u8(1) + u8(2) + u8(3) + u8(0) + req(1, 0, 0x9000, 1, 200, True),
        # ATS translations, TE off/on via context edits, queue moved and resized
        'ats': u8(4) + u8(6) + u8(0) + u32(0) + u64(0x5000) + u8(1) + u8(6) + u8(0) + u32(0x80000001)
               + u64(0x5000) + u8(3) + u8(7) + u8(0) + u8(0xf) + u8(1) + u8(4) + u64(0x2003)
               + req(0, 0, 0x1000, 1, 1, True) + u8(7) + u8(0) + u8(0xf) + u8(1),
    }


# ---- vtd-host ----
def vtd_host_seeds():
    def leaf(k, i, fl, tgt): return u8(0) + u8(k) + u8(i) + u8(fl) + u8(tgt)
    def pe(k, fl, did): return u8(1) + u8(k) + u8(fl) + u8(did)
    def pc(g, did, pasid): return u8(2) + u8(g) + u8(did) + u8(pasid)
    def piotlb(g, did, pasid, page, am): return u8(3) + u8(g) + u8(did) + u8(pasid) + u8(page) + u8(am)
    def iotlb(g, did, page, am): return u8(4) + u8(g) + u8(did) + u8(page) + u8(am)
    def wait(): return u8(5) + u8(0)
    run = u8(6)
    def dma(k, i): return u8(7) + u8(k) + u8(i)
    bind = pe(0, 3, 1) + pe(1, 3, 2) + pe(2, 3, 2) + pc(3, 0, 0) + wait() + run
    maps = b''.join(leaf(k, i, 7, 4 * k + i) for k in range(3) for i in range(4))
    return {
        # bind 3 PASIDs, map, flush per page / per PASID / per DID, DMA, remap, flush, DMA
        'bind-map-flush': u8(0) + bind + maps + iotlb(2, 1, 0, 0) + piotlb(2, 2, 1, 0, 0)
                          + piotlb(3, 2, 2, 0, 2) + run + b''.join(dma(k, i) for k in range(3) for i in range(4))
                          + leaf(1, 1, 7, 40) + leaf(0, 2, 0, 0) + dma(1, 1) + piotlb(3, 2, 1, 1, 0)
                          + iotlb(3, 1, 2, 0) + wait() + run + dma(1, 1) + dma(0, 2),
        # unchanged entries, global and selective PC flushes; a DID change; unbind; refused
        # binds (WPE without SRE; FLPM=1 is 5-level)
        'rebind': u8(0) + bind + pc(3, 0, 0) + pc(1, 2, 1) + run + pe(1, 3, 3) + pc(0, 2, 0) + run
                  + pe(2, 2, 2) + pc(1, 2, 2) + run + dma(2, 0) + pe(3, 3 | 8, 1) + pc(1, 1, 3) + run
                  + pe(3, 3 | 16, 1) + u8(5) + u8(1) + run + dma(3, 0),
        # page requests from a PRI device (faults on unmapped pages), prs=on
        'pri': u8(3) + bind + dma(1, 9) + dma(0, 9) + leaf(1, 9, 7, 1) + piotlb(3, 2, 1, 9, 0) + run
               + dma(1, 9),
        # bad granularities stop the queue (IQE) part-way
        'iqe': u8(0) + bind + maps + run + leaf(0, 0, 7, 9) + iotlb(0, 1, 0, 0) + iotlb(3, 1, 0, 0)
               + run + dma(0, 0) + piotlb(1, 1, 0, 0, 0) + run + dma(0, 0),
    }


# ---- vtd-shadow ----
def vtd_shadow_seeds():
    def leaf(i, fl, tgt): return u8(0) + u8(i) + u8(fl) + u8(tgt)
    def iotlb(g, did, page, am): return u8(1) + u8(g) + u8(did) + u8(page) + u8(am)
    def cc(pc, g): return u8(2) + u8(pc) + u8(g)
    wait, run = u8(3), u8(4)
    def te(on): return u8(6) + u8(on)
    def fail(n, err): return u8(7) + u8(n | (err << 2))
    four = b''.join(leaf(i, 3, i) for i in range(4))
    return {
        # four contiguous pages (one map), a read-only page, a remove in the middle, page and
        # domain flushes, a flush of the wrong domain
        'legacy': u8(0) + four + b''.join(iotlb(3, 3, i, 0) for i in range(4)) + wait + run
                  + leaf(6, 1, 20) + iotlb(3, 3, 6, 0) + run + leaf(1, 0, 0) + iotlb(3, 3, 1, 0) + run
                  + leaf(8, 3, 30) + leaf(9, 3, 31) + iotlb(2, 4, 0, 0) + run + iotlb(2, 3, 0, 0) + run
                  + leaf(8, 2, 30) + iotlb(3, 3, 8, 1) + run + te(0) + te(1),
        # scalable second stage; context and PASID cache flushes; global flush; TE off/on
        'scalable': u8(1) + four + cc(0, 1) + run + leaf(10, 3, 40) + cc(1, 3) + wait + run
                    + leaf(10, 3, 41) + iotlb(1, 0, 0, 0) + run + te(0) + leaf(11, 1, 2) + te(1)
                    + leaf(31, 3, 63) + iotlb(3, 3, 31, 0) + run,
        # failed maps and unmaps (kernel errno, EINVAL, ENOMEM, EIO), then retries
        'faults': u8(0) + four + fail(0, 0) + iotlb(2, 3, 0, 0) + run + run + leaf(2, 0, 0) + fail(0, 2)
                  + iotlb(3, 3, 2, 0) + run + iotlb(3, 3, 2, 0) + run + fail(0, 3) + te(0) + te(1)
                  + fail(1, 1) + te(0) + run + te(1),
        # more separate mappings than the double has slots (16): ENOMEM until some go
        'many': u8(0) + b''.join(leaf(2 * i, 3, 2 * i) for i in range(16)) + iotlb(1, 0, 0, 0) + run
                + b''.join(leaf(2 * i, 0, 0) for i in range(10)) + iotlb(1, 0, 0, 0) + run,
    }


# ---- testdev ----
def testdev_seeds():
    def port(p, size, wr, v): return u8(0) + u16(p | 0x8000 if p >= 0x8000 else p) + u8(SIZE[size]) + u8(wr) + u32(v)
    def rawport(p, size, wr, v): return u8(0) + u16(0x8000 | p) + u8(SIZE[size]) + u8(wr) + u32(v)
    def iomem(off, size, wr, v): return u8(1) + u32(off) + u8(SIZE[size]) + u8(wr) + u64(v)
    def cfg(reg, size, wr, v): return u8(2) + u16(reg) + u8(SIZE[size]) + u8(wr) + u32(v)
    def bar(n, off, size, wr, v): return u8(3 + n) + u16(off) + u8(SIZE[size]) + u8(wr) + u32(v)
    def cf8(addr, size, wr, v): return u8(5) + u32(addr) + u8(SIZE[size]) + u8(wr) + u32(v)
    def scratch(v): return u8(6) + u32(v)
    pci = b''
    for b, base in ((0, 2048), (1, 128)):
        for t in range(3):
            pci += bar(b, 0, 1, 1, t) + b''.join(bar(b, o, 1, 0, 0) for o in range(0, 40))
            pci += bar(b, base + t + 3 * b, 1, 1, 0xfa) + bar(b, base + t + 3 * b, 1, 1, 0x11)
            pci += bar(b, 12, 4, 0, 0) + bar(b, 4, 4, 0, 0) + bar(b, 8, 2, 0, 0)
        pci += bar(b, 0, 1, 1, 7) + bar(b, 12, 4, 0, 0)
    return {
        # scratch at every width and lane, unaligned ones, the byte port, flush port, IRQ lines
        'pc-ports': scratch(0x11223344) + port(0xe1, 1, 1, 0xaa) + port(0xe2, 2, 1, 0xbbcc)
                    + port(0xe1, 2, 1, 0xdddd) + port(0xe3, 4, 0, 0) + port(0xe9, 1, 0, 0)
                    + port(0xe4, 4, 1, 0x3000) + port(0xe4, 4, 1, 0x7fff0000) + port(0xe4, 1, 1, 5)
                    + port(0xe5, 2, 0, 0) + port(0xeb, 4, 1, 1)
                    + b''.join(port(0x100 | i, 1, 1, 1) + port(0x100 | i, 1, 1, 0) for i in range(24))
                    + rawport(0x2018, 1, 1, 1) + rawport(0x2000, 2, 1, 1),
        # the 64 KiB window: every width, unaligned, across its end
        'pc-iomem': iomem(0, 8, 1, 0x0102030405060708) + iomem(0, 1, 0, 0) + iomem(3, 2, 1, 0xffff)
                    + iomem(0xfffc, 8, 1, 1) + iomem(0xffff, 1, 1, 2) + iomem(0x10000, 4, 0, 0)
                    + u8(7) + u16(0x8) + u64(0xfeedfacecafebeef),
        # pci-testdev: IDs, BAR sizing, each test of both BARs selected, header read, writes
        'pci-tests': cfg(0, 4, 0, 0) + cfg(8, 4, 0, 0) + cf8(0x80002000, 4, 0, 0) + pci,
        # decode off, BARs sized and moved, accesses where they were and where they are
        'pci-bars': cfg(0x10, 4, 1, 0xffffffff) + cfg(0x10, 4, 0, 0) + cfg(0x14, 4, 1, 0xffffffff)
                    + cfg(0x10, 4, 1, 0xc0100000) + cfg(0x14, 4, 1, 0xd000) + bar(0, 0, 1, 1, 1)
                    + cfg(4, 2, 1, 0) + bar(0, 0, 1, 0, 0) + bar(1, 0, 1, 0, 0) + cfg(4, 2, 1, 3)
                    + cfg(0x3c, 1, 1, 0xff) + cfg(0x100, 4, 1, 0xffffffff) + cfg(0xfff, 1, 0, 0)
                    + cf8(0x80002004, 2, 1, 0) + cf8(0x00002000, 4, 0, 0),
    }
def virtio_seeds():
    def ram(off, val): return u8(0) + u16(off) + u64(val)
    def desc(i, addr, ln, flags, nxt=0): return u8(1) + u8(i) + u32(addr) + u32(ln) + u8(flags) + u16(nxt)
    def offer(head): return u8(2) + u16(head)
    def idx(v): return u8(3) + u16(v)
    def hdr(addr, tsel, sector): return u8(5) + u16(addr) + u8(tsel) + u64(sector)
    reset = u8(6)
    NEXT, WRITE, INDIRECT = 1, 2, 4
    IN, OUT, FLUSH, GETID, DISCARD, WZ, BAD = 0, 1, 2, 3, 4, 5, 6  # indexes into types[]
    q8 = u8(3)

    def req(tsel, sector, data_len, data_write, h=0x4000, d=0x5000, st=0x6000):
        # header -> data (if any) -> status, descriptors 0..2, offered at head 0
        out = hdr(h, tsel, sector)
        if data_len:
            out += desc(0, h, 16, NEXT, 1) + desc(1, d, data_len, NEXT | (WRITE if data_write else 0), 2)
            out += desc(2, st, 1, WRITE)
        else:
            out += desc(0, h, 16, NEXT, 2) + desc(2, st, 1, WRITE)
        return out + offer(0)

    def seg(at, sector, n, flags): return ram(at, sector) + ram(at + 8, n | (flags << 32))
    return {
        # read and write: first sector, last sector, one past the end, not a whole sector
        'blk-rw': u8(0) + q8 + req(OUT, 0, 512, False) + req(IN, 0, 512, True)
                  + req(OUT, 127, 512, False) + req(IN, 127, 1024, True) + req(IN, 128, 512, True)
                  + req(OUT, 3, 100, False) + req(IN, 1 << 60, 512, True),
        # flush, get-id (short and long buffer), discard / write-zeroes segments, unknown type
        'blk-misc': u8(1) + q8 + req(FLUSH, 0, 0, False) + req(GETID, 0, 20, True)
                    + req(GETID, 0, 8, True) + seg(0x5000, 8, 8, 0) + req(DISCARD, 0, 16, False)
                    + seg(0x5000, 120, 16, 1) + req(WZ, 0, 16, False)
                    + seg(0x5000, 0, 1 << 23, 0) + req(DISCARD, 0, 16, False)
                    + req(DISCARD, 0, 10, False) + req(BAD, 0, 512, False),
        # indirect table: header, data and status through one INDIRECT descriptor
        'blk-indirect': u8(2) + q8 + hdr(0x4000, IN, 1) + ram(0x7000, 0x4000) + ram(0x7008, (1 << 48) | (1 << 32) | 16)
                        + ram(0x7010, 0x5000) + ram(0x7018, (2 << 48) | (3 << 32) | 512)
                        + ram(0x7020, 0x6000) + ram(0x7028, (2 << 32) | 1)
                        + desc(0, 0x7000, 48, INDIRECT) + offer(0),
        # malformed: no status byte, header too short, status readable, avail idx far ahead,
        # DMA blocked by the fake IOMMU (bit 15), then reset and a good request
        'blk-errors': u8(4) + q8 + hdr(0x4000, IN, 0) + desc(0, 0x4000, 16, 0) + offer(0)
                      + reset + desc(0, 0x4000, 8, NEXT, 2) + desc(2, 0x6000, 1, WRITE) + offer(0)
                      + reset + desc(0, 0x4000, 16, NEXT, 2) + desc(2, 0x6000, 1, 0) + offer(0)
                      + reset + idx(50) + reset + req(IN, 0, 512, True, d=0x9000)
                      + reset + req(IN, 0, 512, True),
    }


def virtio_net_seeds():
    def ram(off, val): return u8(0) + u16(off) + u64(val)
    def desc(q, i, addr, ln, flags, nxt=0): return u8(1) + u8((q << 7) | i) + u32(addr) + u32(ln) + u8(flags) + u16(nxt)
    def offer(q, head): return u8(2) + u8(q) + u16(head)
    def idx(q, v): return u8(3) + u8(q) + u16(v)
    def common(off, size, val): return u8(4) + u8(off) + u8(SIZE[size]) + u32(val)
    def hdr(addr, b=bytes(12)): return u8(5) + u16(addr) + b
    def frame(n, fill, lead=b''): return u8(6) + u16(n - 1) + u8(fill) + lead.ljust(min(n, 16), b'\x5a')[:min(n, 16)]
    reset = u8(7)
    WRITE, NEXT, INDIRECT = 2, 1, 4
    q8 = u8(3)  # queue size 8
    eth = bytes.fromhex('ffffffffffff020000aabbcc0800')
    return {
        # transmit: one descriptor (header + frame), a header/data chain, shorter than a header
        'tx': u8(1) + q8 + hdr(0x8000) + ram(0x800c, 0x0102030405060708) + desc(1, 0, 0x8000, 12 + 60, 0)
              + offer(1, 0) + hdr(0x9000, bytes([1, 0, 0, 0, 14, 0, 20, 0, 0, 0, 1, 0]))
              + desc(1, 1, 0x9000, 12, NEXT, 2) + desc(1, 2, 0x8010, 1500, 0) + offer(1, 1)
              + desc(1, 3, 0x8000, 5, 0) + offer(1, 3),
        # receive: a frame before any buffer waits; a buffer takes it; a too-small one drops
        'rx': u8(1) + q8 + frame(100, 0x11, eth) + desc(0, 0, 0xa000, 1526, WRITE) + offer(0, 0)
              + desc(0, 1, 0xb000, 40, WRITE) + offer(0, 1) + frame(100, 0x22, eth)
              + desc(0, 2, 0xc000, 12, WRITE | NEXT, 3) + desc(0, 3, 0xc100, 2048, WRITE)
              + offer(0, 2) + frame(1514, 0x33, eth) + frame(60, 0x44, eth),
        # indirect tables on both queues (INDIRECT_DESC negotiated) and a readable rx buffer
        'indirect': u8(3) + q8 + ram(0xd000, 0x8000) + ram(0xd008, 12 + 42) + desc(1, 0, 0xd000, 16, INDIRECT)
                    + offer(1, 0) + ram(0xd100, 0xa000) + ram(0xd108, (2 << 32) | 1526)
                    + desc(0, 0, 0xd100, 16, INDIRECT) + offer(0, 0) + frame(42, 0x55, eth)
                    + desc(0, 1, 0xa000, 1526, 0) + offer(0, 1) + frame(42, 0x66, eth),
        # negotiation: features without VERSION_1, an unknown bit, FEATURES_OK refused; queue
        # size not a power of two, enable before addresses; reset with a frame held
        'features': u8(0x10) + q8 + common(0x14, 1, 0) + common(0x14, 1, 3) + common(0x08, 4, 0)
                    + common(0x0c, 4, 0x20) + common(0x08, 4, 1) + common(0x0c, 4, 0)
                    + common(0x14, 1, 0xb) + common(0x00, 4, 1) + common(0x04, 4, 0)
                    + common(0x16, 2, 0) + common(0x18, 2, 3) + common(0x1c, 2, 1) + common(0x14, 1, 0xf)
                    + frame(64, 0x77, eth) + offer(0, 0) + reset + common(0x0c, 4, 0xffffffff)
                    + desc(0, 0, 0xa000, 1526, WRITE) + offer(0, 0),
        # event index with avail idx far ahead, DMA blocked by the IOMMU (bit 15), bus master off
        'errors': u8(1 | 4) + q8 + desc(1, 0, 0x8000, 64, 0) + idx(1, 40) + reset
                  + desc(0, 0, 0x8000, 1526, WRITE) + offer(0, 0) + frame(80, 0x12, eth) + reset
                  + desc(1, 1, 0x9000, 64, NEXT, 1) + offer(1, 1),
        'master-off': u8(8) + q8 + desc(0, 0, 0xa000, 1526, WRITE) + offer(0, 0) + frame(60, 1, eth)
                      + desc(1, 0, 0x8000, 72, 0) + offer(1, 0),
    }


def virtio_console_seeds():
    def ram(off, val): return u8(0) + u16(off) + u64(val)
    def desc(q, i, addr, ln, flags, nxt=0): return u8(1) + u8((q << 7) | i) + u32(addr) + u32(ln) + u8(flags) + u16(nxt)
    def offer(q, head): return u8(2) + u8(q) + u16(head)
    def idx(q, v): return u8(3) + u8(q) + u16(v)
    def common(off, size, val): return u8(4) + u8(off) + u8(SIZE[size]) + u32(val)
    def config(off, size, val): return u8(5) + u8(off) + u8(SIZE[size]) + u32(val)
    def inp(n, fill): return u8(6) + u16(n - 1) + u8(fill)
    reset = u8(7)
    WRITE, NEXT, INDIRECT = 2, 1, 4
    q8 = u8(3)  # queue size 8
    return {
        # output: one buffer, a two-descriptor chain, a buffer past RAM; emergency writes
        'tx': u8(1) + q8 + ram(0x8000, 0x0a6f6c6c6568) + desc(1, 0, 0x8000, 6, 0) + offer(1, 0)
              + desc(1, 1, 0x8000, 3, NEXT, 2) + desc(1, 2, 0x8003, 3, 0) + offer(1, 1)
              + desc(1, 3, 0xfff0, 0x100, 0) + offer(1, 3) + config(8, 4, 0x41) + config(8, 1, 0x0a),
        # input: bytes before any buffer wait; a 2-byte buffer, a readable one, then room;
        # more input than one read (8 KiB) across 4 KiB buffers
        'rx': u8(1) + q8 + inp(5, 0x61) + desc(0, 0, 0xa000, 2, WRITE) + offer(0, 0)
              + desc(0, 1, 0xa100, 16, 0) + offer(0, 1) + desc(0, 2, 0xa200, 16, WRITE) + offer(0, 2)
              + inp(8192, 0x62) + desc(0, 3, 0xb000, 4096, WRITE) + offer(0, 3)
              + desc(0, 4, 0xc000, 4096, WRITE) + offer(0, 4) + desc(0, 5, 0xd000, 4096, WRITE) + offer(0, 5),
        # indirect tables (INDIRECT_DESC negotiated) on both queues
        'indirect': u8(3) + q8 + ram(0xd000, 0x8000) + ram(0xd008, 8) + desc(1, 0, 0xd000, 16, INDIRECT)
                    + offer(1, 0) + ram(0xd100, 0xa000) + ram(0xd108, (2 << 32) | 64)
                    + desc(0, 0, 0xd100, 16, INDIRECT) + offer(0, 0) + inp(100, 0x63),
        # negotiation and reset with bytes held; input kept across the reset
        'reset': u8(0) + q8 + inp(40, 0x64) + common(0x14, 1, 0) + common(0x14, 1, 3)
                 + common(0x14, 1, 0xb) + common(0x16, 2, 0) + common(0x18, 2, 3) + common(0x1c, 2, 1)
                 + common(0x14, 1, 0xf) + reset + desc(0, 0, 0xa000, 64, WRITE) + offer(0, 0),
        # event index with the avail index far ahead, DMA blocked by the IOMMU, bus master off
        'errors': u8(1 | 4) + q8 + desc(1, 0, 0x8000, 64, 0) + idx(1, 40) + reset
                  + inp(30, 0x65) + desc(0, 0, 0x8000, 64, WRITE) + offer(0, 0) + reset
                  + desc(0, 1, 0x9000, 64, WRITE | NEXT, 1) + offer(0, 1),
        'master-off': u8(8) + q8 + inp(10, 0x66) + desc(0, 0, 0xa000, 64, WRITE) + offer(0, 0)
                      + desc(1, 0, 0x8000, 72, 0) + offer(1, 0),
    }


def main():
    gens = {'vtd-regs': vtd_regs_seeds, 'vtd-qi': vtd_qi_seeds, 'vtd-xlate': vtd_xlate_seeds,
            'pci-config': pci_seeds, 'edu': edu_seeds, 'boot': boot_seeds, 'cli': cli_seeds,
            'pasid-dma': pasid_dma_seeds, 'vtd-ir': vtd_ir_seeds, 'vtd-prq': vtd_prq_seeds,
            'vtd-host': vtd_host_seeds, 'vtd-shadow': vtd_shadow_seeds,
            'testdev': testdev_seeds, 'virtio': virtio_seeds, 'virtio-net': virtio_net_seeds,
            'virtio-console': virtio_console_seeds}
    for target, gen in gens.items():
        d = os.path.join(HERE, 'corpus', target)
        os.makedirs(d, exist_ok=True)
        for name, data in gen().items():
            with open(os.path.join(d, 'seed-' + name), 'wb') as f:
                f.write(data)
    return 0


if __name__ == '__main__':
    sys.exit(main())
