/* heed semantic-search demo, written against the C API only (and compiled as
 * C, which also checks that heed.h is valid C).
 *
 *   semantic-search model.heed sentences.txt "query one" "query two" ...
 *
 * Embeds every line of sentences.txt, then prints, for each query, the three
 * closest sentences by cosine similarity, with timings. */
#include <heed/heed.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s model.heed sentences.txt QUERY...\n", argv[0]);
    return 2;
  }
  heed_model* model = NULL;
  double t0 = now_ms();
  if (heed_model_load(argv[1], &model) != HEED_OK) {
    fprintf(stderr, "load: %s\n", heed_last_error());
    return 1;
  }
  double t_load = now_ms() - t0;
  heed_model_info info;
  heed_model_get_info(model, &info);
  heed_session_options opts;
  heed_session_options_init(&opts);
  size_t arena = 0;
  heed_session_arena_size(model, &opts, &arena);
  heed_session* session = NULL;
  if (heed_session_create(model, &opts, NULL, 0, &session) != HEED_OK) {
    fprintf(stderr, "session: %s\n", heed_last_error());
    return 1;
  }
  FILE* f = fopen(argv[2], "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", argv[2]);
    return 1;
  }
  size_t cap = 256, n = 0, dim = info.output_size;
  char** text = malloc(cap * sizeof *text);
  float* emb = malloc(cap * dim * sizeof *emb);
  char line[4096];
  double t_embed = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!line[0]) continue;
    if (n == cap) {
      cap *= 2;
      text = realloc(text, cap * sizeof *text);
      emb = realloc(emb, cap * dim * sizeof *emb);
    }
    text[n] = strdup(line);
    size_t got = 0;
    double t = now_ms();
    if (heed_embed_text(session, line, SIZE_MAX, emb + n * dim, dim, &got) != HEED_OK) {
      fprintf(stderr, "embed: %s\n", heed_last_error());
      return 1;
    }
    t_embed += now_ms() - t;
    ++n;
  }
  fclose(f);
  printf("model %s (%s, %zu layers, dim %zu): loaded in %.1f ms, arena %zu bytes\n", argv[1], info.precision,
         info.num_layers, dim, t_load, arena);
  printf("embedded %zu sentences in %.1f ms (%.2f ms each, one thread)\n\n", n, t_embed, n ? t_embed / n : 0.0);
  float* q = malloc(dim * sizeof *q);
  for (int a = 3; a < argc; ++a) {
    size_t got = 0;
    double t = now_ms();
    heed_embed_text(session, argv[a], SIZE_MAX, q, dim, &got);
    int best[3] = {-1, -1, -1};
    float score[3] = {-2, -2, -2};
    for (size_t i = 0; i < n; ++i) {
      float s = 0; /* embeddings are L2-normalized: dot = cosine */
      for (size_t d = 0; d < dim; ++d) s += q[d] * emb[i * dim + d];
      for (int r = 0; r < 3; ++r) {
        if (s > score[r]) {
          for (int k = 2; k > r; --k) {
            score[k] = score[k - 1];
            best[k] = best[k - 1];
          }
          score[r] = s;
          best[r] = (int)i;
          break;
        }
      }
    }
    printf("query: %s   (%.2f ms)\n", argv[a], now_ms() - t);
    for (int r = 0; r < 3 && best[r] >= 0; ++r) printf("  %.3f  %s\n", score[r], text[best[r]]);
    printf("\n");
  }
  for (size_t i = 0; i < n; ++i) free(text[i]);
  free(text);
  free(emb);
  free(q);
  heed_session_free(session);
  heed_model_free(model);
  return 0;
}
