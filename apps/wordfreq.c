/* Word frequencies of a text file, the way an MPI job uses a shared
 * folder: every rank reads its own part of INPUT (whole words: a word
 * that crosses a boundary belongs to the rank where it starts), counts
 * its words and writes OUTDIR/counts.<rank>.txt; then rank 0 merges those
 * files into OUTDIR/summary.txt (total, distinct words, the 100 most
 * frequent). Words are runs of non-space bytes.
 *
 *   scripts/toro-mpicc -O2 apps/wordfreq.c -o wordfreq.elf
 *   scripts/toro-run -n 4 --fs ./data wordfreq.elf -- input.txt out
 *
 * Builds the same with mpicc and runs under mpirun. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	char *word;
	long count;
};

struct table {
	struct entry *e;
	size_t cap, used;
};

static void die(int rank, const char *what, const char *path)
{
	fprintf(stderr, "wordfreq: rank %d: %s %s: %s\n", rank, what, path, strerror(errno));
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static void grow(struct table *t);

/* Adds count to the word s[0..n). */
static void add(struct table *t, const char *s, size_t n, long count)
{
	if (2 * (t->used + 1) > t->cap)
		grow(t);
	size_t i = hash(s, n) & (t->cap - 1);
	while (t->e[i].word && (strlen(t->e[i].word) != n || memcmp(t->e[i].word, s, n) != 0))
		i = (i + 1) & (t->cap - 1);
	if (!t->e[i].word) {
		t->e[i].word = strndup(s, n);
		t->used++;
	}
	t->e[i].count += count;
}

static void grow(struct table *t)
{
	struct table bigger = {calloc(t->cap ? 2 * t->cap : 1024, sizeof *t->e), t->cap ? 2 * t->cap : 1024, 0};
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].word) {
			add(&bigger, t->e[i].word, strlen(t->e[i].word), t->e[i].count);
			free(t->e[i].word);
		}
	free(t->e);
	*t = bigger;
}

/* Reads this rank's part: from the first word that starts at or after
 * offset lo to the end of the last word that starts before hi. */
static char *read_part(int fd, long lo, long hi, long size, long *len)
{
	long start = lo, end = hi;
	char c;
	if (lo > 0) /* a word that runs over lo belongs to the rank before */
		while (start < size && pread(fd, &c, 1, start - 1) == 1 && !isspace((unsigned char)c))
			start++;
	while (end < size && pread(fd, &c, 1, end - 1) == 1 && !isspace((unsigned char)c))
		end++;
	if (start > end)
		start = end;
	char *buf = malloc(end - start + 1);
	long got = 0;
	while (buf && got < end - start) {
		ssize_t r = pread(fd, buf + got, end - start - got, start + got);
		if (r <= 0)
			return NULL;
		got += r;
	}
	*len = got;
	return buf;
}

static long count_words(struct table *t, const char *s, long n)
{
	long words = 0;
	for (long i = 0; i < n;) {
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		long j = i;
		while (j < n && !isspace((unsigned char)s[j]))
			j++;
		if (j > i) {
			add(t, s + i, j - i, 1);
			words++;
		}
		i = j;
	}
	return words;
}

static int by_word(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->word, ((const struct entry *)b)->word);
}

static int by_count(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->word, y->word);
}

/* The table's entries, packed and sorted. */
static struct entry *sorted(struct table *t, int (*cmp)(const void *, const void *))
{
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].word)
			t->e[k++] = t->e[i];
	qsort(t->e, k, sizeof *t->e, cmp);
	return t->e;
}

static void write_counts(int rank, const char *dir, struct table *t)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/counts.%d.txt", dir, rank);
	FILE *f = fopen(path, "w");
	if (!f)
		die(rank, "cannot create", path);
	size_t n = t->used;
	struct entry *e = sorted(t, by_word);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %ld\n", e[i].word, e[i].count);
	if (fclose(f) != 0)
		die(rank, "cannot write", path);
}

/* Rank 0: merges every rank's counts into the summary. */
static void summarise(const char *dir, int nranks, long total)
{
	struct table all = {0};
	char path[4096], word[4096];
	long count, merged = 0;
	for (int r = 0; r < nranks; r++) {
		snprintf(path, sizeof path, "%s/counts.%d.txt", dir, r);
		FILE *f = fopen(path, "r");
		if (!f)
			die(0, "cannot read", path);
		while (fscanf(f, "%4095s %ld", word, &count) == 2) {
			add(&all, word, strlen(word), count);
			merged += count;
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/summary.txt", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		die(0, "cannot create", path);
	size_t n = all.used;
	fprintf(f, "%ld words, %zu distinct, counted by %d ranks%s\n", merged, n, nranks,
		merged == total ? "" : " (MISMATCH with the ranks' totals)");
	struct entry *e = sorted(&all, by_count);
	for (size_t i = 0; i < n && i < 100; i++)
		fprintf(f, "%-24s %ld\n", e[i].word, e[i].count);
	if (fclose(f) != 0)
		die(0, "cannot write", path);
	printf("rank 0: %ld words, %zu distinct; summary in %s\n", merged, n, path);
}

int main(int argc, char **argv)
{
	int rank, nranks;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	if (argc != 3) {
		if (rank == 0)
			fprintf(stderr, "usage: wordfreq INPUT OUTDIR\n");
		MPI_Finalize();
		return 2;
	}
	if (rank == 0 && mkdir(argv[2], 0755) != 0 && errno != EEXIST)
		die(rank, "cannot create", argv[2]);
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		die(rank, "cannot open", argv[1]);
	long size = st.st_size, len = 0;
	char *text = read_part(fd, size * rank / nranks, size * (rank + 1) / nranks, size, &len);
	if (!text)
		die(rank, "cannot read", argv[1]);
	close(fd);
	struct table t = {0};
	long words = count_words(&t, text, len), total = 0;
	printf("rank %d: %ld words, %zu distinct in %ld bytes\n", rank, words, t.used, len);
	MPI_Barrier(MPI_COMM_WORLD); /* OUTDIR exists */
	write_counts(rank, argv[2], &t);
	MPI_Reduce(&words, &total, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD); /* and every file is written */
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0)
		summarise(argv[2], nranks, total);
	MPI_Finalize();
	return 0;
}
