/* heed: int8 transformer inference for small devices. C API.
 *
 * Basic usage (sentence embedding, error checks shortened):
 *
 *   heed_model* model = NULL;
 *   if (heed_model_load("all-MiniLM-L6-v2.heed", &model) != HEED_OK) {
 *     fprintf(stderr, "%s\n", heed_last_error());
 *     return 1;
 *   }
 *   heed_session_options opts;
 *   heed_session_options_init(&opts);           // max_seq = model's max length
 *   size_t arena_bytes = 0;
 *   heed_session_arena_size(model, &opts, &arena_bytes);   // exact, before creating
 *   heed_session* session = NULL;
 *   heed_session_create(model, &opts, NULL, 0, &session);  // NULL: heed allocates once
 *   float embedding[384];
 *   size_t dim = 0;
 *   heed_embed_text(session, "A man is playing a guitar.", SIZE_MAX,
 *                   embedding, 384, &dim);
 *   heed_session_free(session);
 *   heed_model_free(model);
 *
 * Contracts
 * - No function aborts or throws on bad input: each returns a heed_status, and
 *   heed_last_error() gives a message for the last failure on the calling thread.
 * - A heed_model is immutable after loading and may be shared by any number of
 *   threads and sessions. It must outlive its sessions.
 * - A heed_session is used by one thread at a time. After heed_session_create,
 *   inference (heed_session_run, heed_embed_text, heed_classify_text) makes no
 *   heap allocation.
 * - Every model is verified on load (structure and meaning); there is no
 *   unverified load path.
 * - Any bytes given as a model, any text and any argument value yields HEED_OK
 *   or one of the error codes below with a message; never a crash, a hang or an
 *   allocation beyond the caps listed in docs/SECURITY.md. Undefined: passing a
 *   pointer that is not what the call documents (freed handles, buffers shorter
 *   than the sizes given, a session used by two threads at once).
 */
#ifndef HEED_HEED_H_
#define HEED_HEED_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HEED_API
#else
#define HEED_API __attribute__((visibility("default")))
#endif

typedef enum heed_status {
  HEED_OK = 0,
  HEED_ERROR_INVALID_ARGUMENT = 1, /* a NULL pointer, a size of 0, a bad option */
  HEED_ERROR_IO = 2,               /* file cannot be opened, read or mapped */
  HEED_ERROR_INVALID_MODEL = 3,    /* the file is not a valid .heed model */
  HEED_ERROR_UNSUPPORTED = 4,      /* valid, but asks for something this build lacks */
  HEED_ERROR_OUT_OF_MEMORY = 5,    /* an allocation failed or exceeds a stated cap */
  HEED_ERROR_BUFFER_TOO_SMALL = 6, /* a caller buffer is smaller than needed */
  HEED_ERROR_INVALID_INPUT = 7,    /* token ids out of range, sequence too long */
  HEED_ERROR_INTERNAL = 8,         /* a bug in heed: please report it */
  HEED_ERROR_NON_FINITE = 9        /* the model computed NaN or infinity for this input */
} heed_status;

/* Short fixed name of a status code ("HEED_ERROR_IO"). Never NULL. */
HEED_API const char* heed_status_name(heed_status status);

/* Message describing the last failure on this thread (empty if none). The
 * pointer stays valid until the next heed call on this thread. */
HEED_API const char* heed_last_error(void);

/* Library version string, e.g. "0.1.0". */
HEED_API const char* heed_version(void);

/* ---- Models ---------------------------------------------------------------- */

typedef struct heed_model heed_model;

/* Maps the file read-only and verifies it. On failure *out is NULL. */
HEED_API heed_status heed_model_load(const char* path, heed_model** out);

/* Verifies and uses a caller buffer in place. The buffer must stay valid and
 * unchanged for the model's lifetime and be 64-byte aligned (weights are used
 * in place). Indices, shapes and tokenizer tables are copied at load. */
HEED_API heed_status heed_model_load_from_buffer(const void* data, size_t size, heed_model** out);

HEED_API void heed_model_free(heed_model* model);

typedef enum heed_task {
  HEED_TASK_EMBEDDING = 0,
  HEED_TASK_SEQUENCE_CLASSIFICATION = 1,
  HEED_TASK_CAUSAL_LM = 2 /* next-token logits at every position: output_size = vocabulary */
} heed_task;

typedef struct heed_model_info {
  const char* architecture;  /* "BertModel", ... */
  const char* precision;     /* "int8" or "fp32" */
  heed_task task;
  size_t hidden_size;
  size_t num_layers;
  size_t output_size;        /* embedding dim, number of classes, or (causal LM) the
                                vocabulary: the length of one row of logits */
  size_t max_seq;            /* tokens, including special tokens */
  size_t vocab_size;
  size_t num_ops;
  size_t num_tensors;
} heed_model_info;

/* Strings point into the model and live as long as it does. */
HEED_API heed_status heed_model_get_info(const heed_model* model, heed_model_info* info);

/* Label of class `index` for classification models (NULL if none). A label
 * may contain any bytes, NUL included: this form ends at the first NUL. */
HEED_API const char* heed_model_label(const heed_model* model, size_t index);

/* The whole label of class `index`: *label points into the model (not
 * NUL-terminated past an embedded NUL), *length is its byte count.
 * HEED_ERROR_INVALID_ARGUMENT if index >= the number of labels. */
HEED_API heed_status heed_model_get_label(const heed_model* model, size_t index, const char** label,
                                          size_t* length);

/* Causal LMs: the special ids of the checkpoint's generation config
 * (generation_config.json if it had one, else config.json, as transformers'
 * generate() reads them), stored in the file by the converter (schema 1.3).
 * *eos_ids (pointing into the model) lists the ids generation stops at; it
 * may be empty. Files converted before 1.3 give their tokenizer's eos and
 * bos. Each id is in [0, vocabulary): the loader refuses a file otherwise.
 * *bos_id is -1 when there is none. Other tasks: -1 and an empty list.
 * Each out pointer may be NULL. */
HEED_API heed_status heed_model_generation_ids(const heed_model* model, int32_t* bos_id, const int32_t** eos_ids,
                                               size_t* num_eos_ids);

/* ---- Tokenizer ----------------------------------------------------------- */

/* Tokenizes UTF-8 text with the model's tokenizer, adding [CLS]/[SEP] and
 * truncating to the model's max length. text_len = SIZE_MAX means NUL-terminated.
 * Empty text gives [CLS] [SEP]. Invalid UTF-8 bytes are replaced by U+FFFD,
 * which the BERT normalizer then drops (as Hugging Face does for decoded text).
 * Writes at most `capacity` ids; *count receives the full count
 * (HEED_ERROR_BUFFER_TOO_SMALL if it does not fit). Allocation-free. */
HEED_API heed_status heed_tokenize(const heed_model* model, const char* text, size_t text_len,
                                   int32_t* ids, size_t capacity, size_t* count);

/* BPE tokenizers (GPT-2 byte level, Llama style): heed_tokenize adds the
 * post-processor's tokens (<s> for Llama, none for GPT-2) and does not
 * truncate. Invalid UTF-8 becomes one U+FFFD per maximal ill-formed
 * subsequence (as Python's errors="replace"), which is then tokenized.
 * BPE works in scratch memory linear in the text (about 118 bytes per byte):
 * heed_tokenize allocates it for the call; heed_tokenize_with_scratch takes
 * the caller's and allocates nothing. WordPiece models need no scratch. */

/* Scratch bytes heed_tokenize_with_scratch needs for text_len bytes of text
 * (0 for WordPiece). HEED_ERROR_INVALID_INPUT above 16 MiB of text. */
HEED_API heed_status heed_tokenize_scratch_size(const heed_model* model, size_t text_len, size_t* bytes);

/* heed_tokenize with caller scratch (any alignment, at least
 * heed_tokenize_scratch_size bytes; may be NULL for WordPiece). Allocation-free. */
HEED_API heed_status heed_tokenize_with_scratch(const heed_model* model, const char* text, size_t text_len,
                                                void* scratch, size_t scratch_size, int32_t* ids,
                                                size_t capacity, size_t* count);

/* Decodes token ids to UTF-8 text as Hugging Face's Tokenizer.decode(ids,
 * skip_special_tokens): BPE models only (HEED_ERROR_UNSUPPORTED otherwise).
 * Writes at most `capacity` bytes (no terminating NUL); *text_len receives the
 * full length (HEED_ERROR_BUFFER_TOO_SMALL if it does not fit). An id outside
 * the vocabulary is HEED_ERROR_INVALID_INPUT. The text is always valid UTF-8
 * (invalid byte sequences become U+FFFD as HF does). Allocation-free. */
HEED_API heed_status heed_detokenize(const heed_model* model, const int32_t* ids, size_t count,
                                     int skip_special, char* text, size_t capacity, size_t* text_len);

/* Streaming decoder, fed one id at a time (BPE models only). Each feed
 * writes the text that became final, never part of a UTF-8 character; the
 * pieces written by every feed and the finish concatenate to what
 * heed_detokenize gives for all the ids (except after a run of more than 256
 * byte-fallback tokens that turns invalid: see runtime/src/tokenizer/bpe.h).
 * Created once (one allocation); feed and finish allocate nothing. The
 * stream must not outlive its model; one thread at a time. */
typedef struct heed_decode_stream heed_decode_stream;

HEED_API heed_status heed_decode_stream_create(const heed_model* model, int skip_special,
                                               heed_decode_stream** out);
/* Most bytes one feed or finish writes: give them a buffer this large. */
HEED_API size_t heed_decode_stream_max_bytes(const heed_decode_stream* stream);
/* HEED_ERROR_INVALID_ARGUMENT for a buffer below heed_decode_stream_max_bytes;
 * HEED_ERROR_INVALID_INPUT for an id outside the vocabulary (the stream is
 * unchanged). */
HEED_API heed_status heed_decode_stream_feed(heed_decode_stream* stream, int32_t id, char* text,
                                             size_t capacity, size_t* text_len);
/* Writes what is held back (an incomplete character as U+FFFD) and resets the
 * stream for a new sequence. */
HEED_API heed_status heed_decode_stream_finish(heed_decode_stream* stream, char* text, size_t capacity,
                                               size_t* text_len);
HEED_API void heed_decode_stream_free(heed_decode_stream* stream);

/* ---- Sessions ------------------------------------------------------------ */

typedef struct heed_session heed_session;

/* Element type of a causal LM's key/value caches (per attention layer, in
 * the arena, sized for max_seq tokens). AUTO: int8 for a model with int8
 * weights, float for a float model. INT8: one int8 per element plus one
 * float scale per token and key/value head (a quarter of the float bytes);
 * F32: exact (the logits transformers computes, within float rounding).
 * AUTO follows the model file when its converter recorded a choice (it
 * measures both caches on the calibration inputs: heed inspect shows it),
 * else the weights' type. */
typedef enum heed_kv_cache_type {
  HEED_KV_CACHE_AUTO = 0,
  HEED_KV_CACHE_F32 = 1,
  HEED_KV_CACHE_INT8 = 2
} heed_kv_cache_type;

typedef struct heed_session_options {
  size_t max_seq;  /* longest token sequence a run may take; 0 = model max */
  int num_threads; /* 1..HEED_MAX_THREADS, default 1; more than the CPUs this
                      process may run on is capped to that number (see
                      heed_session_num_threads) */
  const char* isa; /* NULL (default): the best kernels this CPU runs. Else a
                      cap, one of "scalar", "avx2", "avx512vnni", "neon",
                      "neondot", which this CPU must support; the
                      HEED_ISA environment variable caps as well. Every ISA
                      gives the same output bytes. */
  int kv_cache;    /* a heed_kv_cache_type; default HEED_KV_CACHE_AUTO */
  int32_t attention_window; /* 0 (default) = each attention layer as the model
                      file says; N > 0 = every layer attends within a window of
                      N tokens: causal layers to the N tokens before each token
                      and itself (their key/value cache becomes a ring of N + 64
                      or more tokens), encoder layers to N on each side; -1 =
                      every layer dense (a file's windows ignored). Not
                      together with `attention`. */
  int last_logits_only; /* causal LMs: nonzero (default 0) makes the session
                      compute the logits of the last position of each run
                      or decode only: heed_session_run, heed_session_logits
                      and heed_session_decode then write one row (vocab
                      floats), the bits a default session gives that
                      position. The layers after the last attention run on
                      that one row, so a prompt costs no LM head per token,
                      and the arena holds one row of logits instead of
                      max_seq (heed_session_arena_size is smaller, and
                      exact). What heed_generate* needs. No effect on models
                      of other tasks (their output is one row already). */
  const char* attention; /* NULL (default) = the file's patterns; else a spec
                      replacing them in every attention layer, comma-separated:
                      "dense", "window=W", "global=K" (the first K tokens see
                      and are seen by all: encoders), "global-at=P:Q:..",
                      "block=B,local=L,global-blocks=G,stride=S,random=R,seed=N"
                      (block-sparse encoders), "sinks=K" (decoders with a
                      window and rotary positions keep their first K tokens,
                      K <= the window, as StreamingLLM: the session streams,
                      heed_session_streams). Keys left out keep
                      the file's. A spec that does not fit the model fails
                      session creation with HEED_ERROR_INVALID_ARGUMENT. The
                      string is read during heed_session_create only. */
} heed_session_options;

#define HEED_MAX_THREADS 256

HEED_API void heed_session_options_init(heed_session_options* options);

/* Exact arena bytes heed_session_create needs for these options. */
HEED_API heed_status heed_session_arena_size(const heed_model* model,
                                             const heed_session_options* options,
                                             size_t* bytes);

/* Creates a session. arena: caller memory of at least heed_session_arena_size
 * bytes, 64-byte aligned, owned by the caller and outliving the session; or
 * NULL to let heed allocate it once here. */
HEED_API heed_status heed_session_create(const heed_model* model,
                                         const heed_session_options* options, void* arena,
                                         size_t arena_size, heed_session** out);

HEED_API void heed_session_free(heed_session* session);

/* Runs the model on token ids (with [CLS]/[SEP] already added, as from
 * heed_tokenize). Writes the model output (embedding or logits) to `out`;
 * *out_count receives its length (count x vocabulary for a causal LM, or the
 * vocabulary with last_logits_only: see heed_session_logits). If the output
 * holds a NaN or infinity
 * (weights that overflow float for this input), returns HEED_ERROR_NON_FINITE
 * and `out` is left unspecified. */
HEED_API heed_status heed_session_run(heed_session* session, const int32_t* ids, size_t count,
                                      float* out, size_t out_capacity, size_t* out_count);

/* Causal LMs: the logits of every position for token ids (no special tokens
 * are added). Row s (logits[s * vocab .. (s + 1) * vocab)) scores the token
 * following ids[0..s]. Needs capacity >= count * vocab floats; *rows and
 * *vocab (each may be NULL) receive count and the vocabulary also when the
 * buffer is too small. On a session created with last_logits_only: one row,
 * that of position count - 1 (capacity >= vocab, *rows = 1). Errors:
 * HEED_ERROR_UNSUPPORTED for a model of another task,
 * HEED_ERROR_INVALID_INPUT for count 0, more than the session's max_seq or
 * an id outside [0, vocab), HEED_ERROR_BUFFER_TOO_SMALL,
 * HEED_ERROR_NON_FINITE. heed_session_run on such a model writes the same. */
HEED_API heed_status heed_session_logits(heed_session* session, const int32_t* ids, size_t count,
                                         float* logits, size_t capacity, size_t* rows, size_t* vocab);

/* Causal LMs, incrementally: the session keeps a context, the tokens whose
 * keys and values its attention layers hold (options.kv_cache, in the arena,
 * sized for max_seq tokens). heed_session_logits and heed_session_run start a new
 * context holding their ids; heed_session_decode appends `count` ids to it
 * and writes their logits (count x vocab, as heed_session_logits; with
 * last_logits_only the last id's row alone, *rows = 1), the same bits
 * heed_session_logits gives those positions for the whole context.
 * HEED_ERROR_INVALID_INPUT when the context would pass max_seq (a streaming
 * session: INT32_MAX positions; see heed_session_streams) or an id is
 * outside the vocabulary (the context is unchanged by a failed call);
 * HEED_ERROR_UNSUPPORTED for models of other tasks. Allocation-free. */
HEED_API heed_status heed_session_decode(heed_session* session, const int32_t* ids, size_t count,
                                         float* logits, size_t capacity, size_t* rows);
/* Empties the context (no-op for other models). */
HEED_API heed_status heed_session_reset(heed_session* session);
/* Tokens in the context (0 for NULL and for other models). */
HEED_API size_t heed_session_context_length(const heed_session* session);
/* 1 when the session's context may grow past max_seq, else 0: every
 * attention layer of the causal LM keeps a constant ring of keys and values
 * (a window with attention sinks, "sinks=K", or a window whose ring of
 * window + 64 or more positions is smaller than max_seq) over rotary
 * positions (RoPE without dynamic scaling). Then heed_session_decode appends
 * to any length (each call still at most max_seq ids) and generation never
 * stops with HEED_STOP_CONTEXT_FULL, in the same arena. */
HEED_API int heed_session_streams(const heed_session* session);
/* Tokenize + run for embedding models. */
HEED_API heed_status heed_embed_text(heed_session* session, const char* text, size_t text_len,
                                     float* out, size_t out_capacity, size_t* out_count);

/* Tokenize + run for classification models: logits per class. */
HEED_API heed_status heed_classify_text(heed_session* session, const char* text,
                                        size_t text_len, float* logits, size_t capacity,
                                        size_t* count);

/* Bytes of the session arena (planned activations, scratch and the kernels'
 * persistent state): the value heed_session_arena_size gave. */
HEED_API size_t heed_session_arena_used(const heed_session* session);

/* Threads the session runs on: options.num_threads capped at the CPUs
 * available to this process when the session was created (0 for NULL). */
HEED_API int heed_session_num_threads(const heed_session* session);

/* The instruction set the session's kernels use ("avx512vnni", ...; "" for
 * NULL). Static string. */
HEED_API const char* heed_session_isa(const heed_session* session);

/* ---- Generation (causal LMs) ---------------------------------------------- */

/* Why heed_generate* stopped. */
typedef enum heed_stop_reason {
  HEED_STOP_MAX_TOKENS = 0,   /* max_tokens ids generated */
  HEED_STOP_EOS = 1,          /* one of the model's eos ids was drawn (not output;
                                 heed_model_generation_ids lists them) */
  HEED_STOP_STOP_ID = 2,      /* one of stop_ids was drawn (not output) */
  HEED_STOP_CONTEXT_FULL = 3, /* prompt + generated ids reached the session's max_seq */
  HEED_STOP_CALLBACK = 4,     /* the callback returned nonzero */
  HEED_STOP_STOP_STRING = 5   /* the generated text contains one of stop_strings (the
                                 id that completed it is output, the text from the stop
                                 string on is not) */
} heed_stop_reason;

#define HEED_MAX_STOP_STRINGS 16
#define HEED_MAX_STOP_STRING_BYTES 256

/* Sampling follows transformers' generate(): temperature 0 is greedy
 * (do_sample=False, transformers' default); temperature > 0 samples after
 * repetition penalty, temperature, top-k and top-p (runtime/src/generate/
 * sampler.h gives the exact steps). The draws use heed's own seeded generator:
 * a seed gives the same ids on every platform, not torch's ids. */
typedef struct heed_generate_options {
  size_t max_tokens;        /* most ids to generate; default 64 */
  float temperature;        /* 0 (default): greedy; else > 0 */
  int32_t top_k;            /* 0: off; default 50 (transformers'; unused when greedy) */
  float top_p;              /* in (0, 1]; 1 (default): off */
  float repetition_penalty; /* > 0; 1 (default): off */
  uint64_t seed;            /* default 0 */
  const int32_t* stop_ids;  /* ids that end generation (not output); may be NULL if num_stop_ids is 0 */
  size_t num_stop_ids;
  int ignore_eos;           /* nonzero: the eos ids are ordinary ids (output, no stop) */
  /* Stop strings: generation stops as soon as the generated text (the
   * callback's text, prompt excluded) contains one of them; the callback
   * never receives a stop string or any text after it. Text that could
   * still become a stop string is held back until it is known not to be one
   * (then it arrives with a later id, or with the final id -1 call). NUL-
   * terminated, valid UTF-8, 1..HEED_MAX_STOP_STRING_BYTES bytes each, at
   * most HEED_MAX_STOP_STRINGS; they need a
   * model with a BPE tokenizer (HEED_ERROR_UNSUPPORTED otherwise). Default
   * none. Read during the call only. */
  const char* const* stop_strings;
  size_t num_stop_strings;
} heed_generate_options;

HEED_API void heed_generate_options_init(heed_generate_options* options);

/* Called once per generated id, in order. text: the UTF-8 text that became
 * final with this id, from the model's streaming decoder (as
 * heed_decode_stream with skip_special = 0) when the model has a BPE
 * tokenizer, else empty (text_len 0, text never NULL); with stop strings,
 * minus what is held back (see stop_strings), plus earlier held-back text
 * released now. After the last id, one more call with id -1 carries the text
 * still held back, if any (its return value is ignored); none when a stop
 * string ended generation. The texts of all calls concatenate to the
 * generated text, cut before the first stop string. Text is valid only during
 * the call. Return nonzero to stop (HEED_STOP_CALLBACK). */
typedef int (*heed_token_callback)(void* user, int32_t id, const char* text, size_t text_len);

typedef struct heed_generate_result {
  size_t prompt_tokens;
  size_t generated_tokens; /* ids passed to the callback (id -1 not counted) */
  heed_stop_reason stop;
} heed_generate_result;

/* Generates after the prompt ids (no special tokens added) on a causal LM
 * session: the prompt runs once and becomes the session's context, then each
 * id drawn is appended through the key/value caches (heed_session_decode),
 * so a token costs one position's pass. Generation stops at the model's eos
 * ids (heed_model_generation_ids) unless options->ignore_eos, and at stop
 * ids and stop strings. Prompt + generated ids never exceed the session's
 * max_seq (then HEED_STOP_CONTEXT_FULL, not an error) unless the session
 * streams (heed_session_streams): then generation goes on past it, the
 * repetition penalties seeing the last max_seq ids.
 * Works on either kind of session; one created with last_logits_only
 * computes one row of logits per step, not one per prompt token (the
 * smallest arena, the fastest prompt), and gives the same ids.
 * Memory: the logits are read where the session wrote them, in its arena.
 * The first call on a session allocates its generation buffers once
 * (max_seq ids, the sampler's workspace of about 17 bytes per vocabulary
 * id, the decoder's state, the stop strings' hold-back buffer of
 * HEED_MAX_STOP_STRING_BYTES - 1 bytes plus one decoder feed); they live with
 * the session and later calls reuse them. Nothing is allocated inside the
 * per-token loop.
 * cb may be NULL; result may not.
 * Errors: HEED_ERROR_INVALID_ARGUMENT naming the field (NULLs, a bad sampling
 * option, a stop id outside the vocabulary, a bad stop string),
 * HEED_ERROR_UNSUPPORTED for a model that is not a causal LM (or stop strings
 * without a BPE tokenizer), HEED_ERROR_INVALID_INPUT (empty prompt,
 * longer than max_seq, an id out of range), HEED_ERROR_NON_FINITE,
 * HEED_ERROR_OUT_OF_MEMORY. *result holds the counts so far also on error. */
HEED_API heed_status heed_generate_ids(heed_session* session, const int32_t* ids, size_t count,
                                       const heed_generate_options* options, heed_token_callback cb, void* user,
                                       heed_generate_result* result);

/* heed_tokenize, then heed_generate_ids. text_len = SIZE_MAX: NUL-terminated.
 * Tokenizing a BPE prompt allocates its scratch for the call (as heed_tokenize
 * does), before the first token. */
HEED_API heed_status heed_generate(heed_session* session, const char* text, size_t text_len,
                                   const heed_generate_options* options, heed_token_callback cb, void* user,
                                   heed_generate_result* result);

#ifdef __cplusplus
}
#endif

#endif /* HEED_HEED_H_ */
