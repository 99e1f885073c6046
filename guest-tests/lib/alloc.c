/* SPDX-License-Identifier: MIT */
/* Page allocator: a free list of returned pages in front of a bump pointer over low RAM. */
#include "guest.h"

#define IDENTITY_LIMIT (1ULL << 32)
/* Pages below this belong to firmware / the trampoline. */
#define ALLOC_MIN (1ULL << 20)

extern char _end[];

static struct spinlock alloc_lock;
static uint64_t bump, bump_end;
static void *free_list;

void alloc_init(void)
{
	uint64_t start = ((uintptr_t)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	/* Use the RAM region holding the kernel, capped at the identity-mapped 4 GiB. */
	for (unsigned i = 0; i < board.nr_mem; i++) {
		uint64_t b = board.mem[i].base, e = b + board.mem[i].size;

		if (e > IDENTITY_LIMIT)
			e = IDENTITY_LIMIT;
		if (start >= b && start < e && start >= ALLOC_MIN) {
			bump = start;
			bump_end = e & ~(PAGE_SIZE - 1);
			return;
		}
	}
	printf("# warning: no RAM region holds the kernel end 0x%lx; allocator empty\n", start);
}

void *alloc_pages(unsigned n)
{
	void *p = NULL;

	spin_lock(&alloc_lock);
	if (n == 1 && free_list) {
		p = free_list;
		free_list = *(void **)p;
	} else if (n && bump + (uint64_t)n * PAGE_SIZE <= bump_end) {
		p = (void *)(uintptr_t)bump;
		bump += (uint64_t)n * PAGE_SIZE;
	}
	spin_unlock(&alloc_lock);
	if (p)
		memset(p, 0, (size_t)n * PAGE_SIZE);
	return p;
}

void free_page(void *p)
{
	if (!p)
		return;
	spin_lock(&alloc_lock);
	*(void **)p = free_list;
	free_list = p;
	spin_unlock(&alloc_lock);
}
