/* tests/loader/test_chat_template.c — Gemma 3, Gemma 4 and Mistral v7 chats rendered to the exact strings their
 * templates give (system prompt, two turns, images), segments in the right places, BOS exactly once when the
 * segments are tokenized, template recognition and the documented fallback.
 * usage: test_chat_template GEMMA3_TOKENIZER_JSON TEKKEN_JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "chat_template.h"
#include "hf_tokenizer.h"
#include "json.h"
#include "tokenizer.h"

static const vkmm_chat_part sys_parts[] = {{VKMM_CHAT_TEXT, "You are helpful."}};
static const vkmm_chat_part g_user1[] = {{VKMM_CHAT_IMAGE, NULL}, {VKMM_CHAT_TEXT, "  Describe it. \n"}};
static const vkmm_chat_part g_reply[] = {{VKMM_CHAT_TEXT, "A cat."}};
static const vkmm_chat_part g_user2[] = {{VKMM_CHAT_TEXT, "And this?"}, {VKMM_CHAT_IMAGE, NULL}};
static const vkmm_chat_message gemma_chat[] = {
    {"system", sys_parts, 1}, {"user", g_user1, 2}, {"assistant", g_reply, 1}, {"user", g_user2, 2}};

static const vkmm_chat_part m_user1[] = {{VKMM_CHAT_TEXT, "Describe "}, {VKMM_CHAT_IMAGE, NULL}};
static const vkmm_chat_part m_user2[] = {{VKMM_CHAT_IMAGE, NULL}, {VKMM_CHAT_TEXT, "And this?"}};
static const vkmm_chat_message mistral_chat[] = {
    {"system", sys_parts, 1}, {"user", m_user1, 2}, {"assistant", g_reply, 1}, {"user", m_user2, 2}};

static const char gemma_want[] =
    "<bos><start_of_turn>user\nYou are helpful.\n\n<start_of_image>Describe it.<end_of_turn>\n"
    "<start_of_turn>model\nA cat.<end_of_turn>\n<start_of_turn>user\nAnd this?<start_of_image><end_of_turn>\n"
    "<start_of_turn>model\n";
/* what the Hugging Face tokenizer gives for gemma_want (add_special_tokens=False) */
static const int32_t gemma_ids[] = {2,   105,    2364, 107,    3048,   659,  11045, 236761, 108, 255999, 82858, 625,
                                    236761, 106, 107,  105,    4368,   107,  236776, 5866, 236761, 106,  107,   105,
                                    2364, 107,   3133, 672,    236881, 255999, 106, 107,    105,  4368,   107};
static const char tekken_want[] =
    "<s>[SYSTEM_PROMPT]You are helpful.[/SYSTEM_PROMPT][INST]Describe [IMG][/INST]A cat.</s>[INST][IMG]And this?[/INST]";
/* mistral-common's ids for the same conversation */
static const int32_t tekken_ids[] = {1, 17, 4568, 1584, 20351, 1046, 18, 3,    5847, 13089, 1032, 10,
                                     4, 1065, 7990, 1046, 2,    3,    10, 4998, 1593, 1063,  4};
/* Gemma 4: a system turn of its own, a model turn's thought stripped (its template's strip_thinking) */
static const vkmm_chat_part g4_reply[] = {{VKMM_CHAT_TEXT, "<|channel>thought\nLet me look.<channel|> A cat. "}};
static const vkmm_chat_message gemma4_chat[] = {
    {"system", sys_parts, 1}, {"user", g_user1, 2}, {"assistant", g4_reply, 1}, {"user", g_user2, 2}};
static const char gemma4_want[] =
    "<bos><|turn>system\nYou are helpful.<turn|>\n<|turn>user\n<|image|>Describe it.<turn|>\n<|turn>model\nA cat."
    "<turn|>\n<|turn>user\nAnd this?<|image|><turn|>\n<|turn>model\n";
static const char gemma4_thought_want[] =
    "<bos><|turn>system\nYou are helpful.<turn|>\n<|turn>user\n<|image|>Describe it.<turn|>\n<|turn>model\nA cat."
    "<turn|>\n<|turn>user\nAnd this?<|image|><turn|>\n<|turn>model\n<|channel>thought\n<channel|>";
static const char v7_want[] = "<s>[SYSTEM_PROMPT] You are helpful.[/SYSTEM_PROMPT][INST] Describe [IMG][/INST] A cat.</s>"
                              "[INST] [IMG]And this?[/INST]";

static void check_render(vkmm_chat_format f, const vkmm_chat_message *m, size_t n, const char *want, bool gen)
{
    vkmm_chat_prompt p;
    vkmm_error err;
    vkmm_chat_options o = {.add_generation_prompt = gen, .include_bos = true};
    CHECK_OK(vkmm_chat_render(f, m, n, &o, &p, &err), &err, );
    char *text;
    size_t len;
    CHECK_OK(vkmm_chat_prompt_text(&p, &text, &len, &err), &err, );
    CHECK(len == strlen(want) && !strcmp(text, want), "%s rendered\n%s\nexpected\n%s", vkmm_chat_format_name(f), text,
          want);
    /* segments: text, image 0, text, image 1, (text) */
    CHECK(p.n_images == 2, "two images");
    size_t images = 0;
    for (size_t i = 0; i < p.n; i++)
        if (p.seg[i].kind == VKMM_CHAT_IMAGE) {
            CHECK(p.seg[i].image == images, "images numbered in order");
            CHECK(!strcmp(p.seg[i].text, f == VKMM_CHAT_GEMMA3 ? "<start_of_image>"
                                         : f == VKMM_CHAT_GEMMA4 || f == VKMM_CHAT_GEMMA4_EMPTY_THOUGHT ? "<|image|>"
                                                                                                       : "[IMG]"),
                  "placeholder");
            CHECK(i == 0 || p.seg[i - 1].kind == VKMM_CHAT_TEXT || p.seg[i - 1].kind == VKMM_CHAT_IMAGE, "order");
            images++;
        }
    free(text);
    vkmm_chat_prompt_free(&p);
}

/* Tokenizes the segments as the engine does (BOS from the tokenizer on the first, specials parsed) and
 * compares with the reference ids of the template's full string. */
static void check_pipeline(const char *path, bool tekken, vkmm_chat_format f, const vkmm_chat_message *m, size_t n,
                           bool gen, const int32_t *want, size_t n_want)
{
    vkmm_error err;
    vkmm_vocab v;
    vkmm_tokenizer *tok = NULL;
    vkmm_status s = tekken ? vkmm_vocab_from_tekken_file(&v, path, &err) : vkmm_vocab_from_hf_file(&v, path, NULL, &err);
    if (s) {
        CHECK(0, "%s (run scripts/setup to install the reference tokenizers)", err.msg);
        return;
    }
    CHECK_OK(vkmm_tokenizer_create(&v, &tok, &err), &err, );
    vkmm_chat_prompt p;
    vkmm_chat_options o = {.add_generation_prompt = gen};
    CHECK_OK(vkmm_chat_render(f, m, n, &o, &p, &err), &err, );
    vkmm_tokens ids = {0};
    for (size_t i = 0; i < p.n; i++)
        CHECK_OK(vkmm_tokenize(tok, p.seg[i].text, p.seg[i].len,
                               VKMM_TOKENIZE_PARSE_SPECIAL | (i == 0 ? VKMM_TOKENIZE_ADD_SPECIAL : 0), &ids, &err),
                 &err, );
    bool same = ids.n == n_want && !memcmp(ids.ids, want, n_want * sizeof *want);
    CHECK(same, "%s: segment ids differ from the reference (%zu vs %zu ids)", vkmm_chat_format_name(f), ids.n, n_want);
    CHECK(ids.n > 1 && ids.ids[0] == vkmm_tokenizer_bos(tok) && ids.ids[1] != ids.ids[0], "BOS exactly once");
    /* the image placeholders are single control tokens where the images go */
    size_t found = 0;
    int32_t ph = tekken ? 10 : 255999;
    for (size_t i = 0; i < ids.n; i++)
        found += ids.ids[i] == ph;
    CHECK(found == 2, "two image placeholders among the ids");
    /* the vocabulary's own template is recognised (Gemma's tokenizer_config.json carries it) */
    if (!tekken) {
        vkmm_chat_format picked;
        CHECK(v.chat_template && vkmm_chat_format_pick(NULL, &v, "mistral-v7", &picked, &err) == VKMM_OK &&
                  picked == VKMM_CHAT_GEMMA3,
              "Gemma 3's own chat_template is recognised");
    } else {
        vkmm_chat_format picked = VKMM_CHAT_NONE;
        CHECK(!v.chat_template && vkmm_chat_format_pick(NULL, &v, "mistral-v7-tekken", &picked, &err) == VKMM_OK &&
                  picked == VKMM_CHAT_MISTRAL_V7_TEKKEN,
              "no template: the architecture's default, mistral-v7-tekken (with a warning)");
    }
    vkmm_tokens_free(&ids);
    vkmm_chat_prompt_free(&p);
    vkmm_tokenizer_free(tok);
    vkmm_vocab_free(&v);
}

static void errors_and_detection(void)
{
    vkmm_error err;
    vkmm_chat_prompt p;
    static const vkmm_chat_part hi[] = {{VKMM_CHAT_TEXT, "hi"}};
    static const vkmm_chat_part img[] = {{VKMM_CHAT_IMAGE, NULL}};
    const vkmm_chat_message two_users[] = {{"user", hi, 1}, {"user", hi, 1}};
    CHECK(vkmm_chat_render(VKMM_CHAT_GEMMA3, two_users, 2, NULL, &p, &err) == VKMM_ERR_INVALID_ARG &&
              strstr(err.msg, "alternate") && p.n == 0,
          "gemma3 refuses roles that do not alternate");
    const vkmm_chat_message starts_assistant[] = {{"assistant", hi, 1}};
    CHECK(vkmm_chat_render(VKMM_CHAT_GEMMA3, starts_assistant, 1, NULL, &p, &err) == VKMM_ERR_INVALID_ARG,
          "gemma3 refuses a first turn by the assistant");
    const vkmm_chat_message tool[] = {{"tool", hi, 1}};
    CHECK(vkmm_chat_render(VKMM_CHAT_MISTRAL_V7_TEKKEN, tool, 1, NULL, &p, &err) == VKMM_ERR_INVALID_ARG &&
              strstr(err.msg, "tool"),
          "mistral refuses unknown roles");
    const vkmm_chat_message sys_img[] = {{"system", img, 1}};
    CHECK(vkmm_chat_render(VKMM_CHAT_MISTRAL_V7_TEKKEN, sys_img, 1, NULL, &p, &err) == VKMM_ERR_INVALID_ARG,
          "mistral refuses images outside user turns");
    CHECK(vkmm_chat_render(VKMM_CHAT_NONE, two_users, 1, NULL, &p, &err) == VKMM_ERR_INVALID_ARG, "no format");
    /* Gemma without a system prompt, no generation prompt, text trimmed by Unicode spaces */
    static const vkmm_chat_part spaced[] = {{VKMM_CHAT_TEXT, "\xE3\x80\x80 hi\t\n\xC2\xA0"}};
    const vkmm_chat_message one[] = {{"user", spaced, 1}};
    if (vkmm_chat_render(VKMM_CHAT_GEMMA3, one, 1, NULL, &p, &err) == VKMM_OK) {
        CHECK(p.n == 1 && !strcmp(p.seg[0].text, "<start_of_turn>user\nhi<end_of_turn>\n"), "plain gemma turn: %s",
              p.seg[0].text);
        vkmm_chat_prompt_free(&p);
    }
    /* Mistral keeps text as it is and adds nothing for the generation prompt */
    const vkmm_chat_message m_one[] = {{"user", spaced, 1}};
    vkmm_chat_options gen = {.add_generation_prompt = true};
    if (vkmm_chat_render(VKMM_CHAT_MISTRAL_V7_TEKKEN, m_one, 1, &gen, &p, &err) == VKMM_OK) {
        CHECK(p.n == 1 && !strcmp(p.seg[0].text, "[INST]\xE3\x80\x80 hi\t\n\xC2\xA0[/INST]"), "plain mistral turn");
        vkmm_chat_prompt_free(&p);
    }

    vkmm_chat_format f;
    CHECK(vkmm_chat_format_from_name("gemma3", &f) && f == VKMM_CHAT_GEMMA3, "name gemma3");
    CHECK(vkmm_chat_format_from_name("mistral-v7-tekken", &f) && f == VKMM_CHAT_MISTRAL_V7_TEKKEN, "name tekken");
    CHECK(!vkmm_chat_format_from_name("chatml", &f), "unknown name");
    CHECK(vkmm_chat_format_pick("chatml", NULL, "gemma3", &f, &err) == VKMM_ERR_INVALID_ARG && strstr(err.msg, "chatml"),
          "an unknown --chat-template is an error");
    CHECK(vkmm_chat_format_detect("{%- for message in loop_messages %}{%- if message['role'] == 'user' %}"
                                  "{{- '[INST]' + message['content'] + '[/INST]' }}{%- elif message['role'] == "
                                  "'system' %}{{- '[SYSTEM_PROMPT]' + message['content'] + '[/SYSTEM_PROMPT]' }}") ==
              VKMM_CHAT_MISTRAL_V7_TEKKEN,
          "Mistral Small 3.1's template");
    CHECK(vkmm_chat_format_detect("{{ '[SYSTEM_PROMPT] ' + system }}{{ '[INST] ' + content + '[/INST]' }}") ==
              VKMM_CHAT_MISTRAL_V7,
          "v7 with spaces");
    CHECK(vkmm_chat_format_detect("{{- '<|turn>' + role + '\\n' }}{{- '<|turn>model\\n' -}}") == VKMM_CHAT_GEMMA4,
          "Gemma 4 E2B/E4B's template");
    CHECK(vkmm_chat_format_detect("{{- '<|turn>model\\n' -}}{%- if not enable_thinking | default(false) -%}"
                                  "{{- '<|channel>thought\\n<channel|>' -}}{%- endif -%}") ==
              VKMM_CHAT_GEMMA4_EMPTY_THOUGHT,
          "Gemma 4 26B/31B's template");
    CHECK(vkmm_chat_format_from_name("gemma4-empty-thought", &f) && f == VKMM_CHAT_GEMMA4_EMPTY_THOUGHT, "name");
    CHECK(vkmm_chat_format_detect("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>") ==
              VKMM_CHAT_NONE,
          "ChatML is not recognised");
    /* unknown template: the architecture's default; none: an error that says what to do */
    vkmm_vocab v;
    vkmm_vocab_init(&v);
    vkmm_vocab_reserve(&v, 2, false, true, 0, &err);
    vkmm_vocab_set_token(&v, 0, "a", 1, 0, VKMM_TOKEN_NORMAL, &err);
    vkmm_vocab_set_token(&v, 1, "<start_of_turn>", 15, 0, VKMM_TOKEN_CONTROL, &err);
    vkmm_vocab_set_string(&v, &v.chat_template, "{{ chatml }}", &err);
    CHECK(vkmm_chat_format_pick(NULL, &v, "gemma3", &f, &err) == VKMM_OK && f == VKMM_CHAT_GEMMA3,
          "unknown template: the architecture's gemma3 with a warning");
    CHECK(vkmm_chat_format_pick("mistral-v7", &v, "gemma3", &f, &err) == VKMM_OK && f == VKMM_CHAT_MISTRAL_V7,
          "a name given wins");
    CHECK(vkmm_chat_format_pick(NULL, &v, NULL, &f, &err) == VKMM_ERR_UNSUPPORTED && strstr(err.msg, "--chat-template"),
          "unknown template and no default: an error naming --chat-template");
    vkmm_vocab_free(&v);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GEMMA3_TOKENIZER_JSON TEKKEN_JSON\n", argv[0]);
        return 1;
    }
    check_render(VKMM_CHAT_GEMMA3, gemma_chat, 4, gemma_want, true);
    check_render(VKMM_CHAT_MISTRAL_V7_TEKKEN, mistral_chat, 4, tekken_want, true);
    check_render(VKMM_CHAT_MISTRAL_V7, mistral_chat, 4, v7_want, false);
    check_render(VKMM_CHAT_GEMMA4, gemma4_chat, 4, gemma4_want, true);
    check_render(VKMM_CHAT_GEMMA4_EMPTY_THOUGHT, gemma4_chat, 4, gemma4_thought_want, true);
    errors_and_detection();
    check_pipeline(argv[1], false, VKMM_CHAT_GEMMA3, gemma_chat, 4, true, gemma_ids, sizeof gemma_ids / sizeof gemma_ids[0]);
    check_pipeline(argv[2], true, VKMM_CHAT_MISTRAL_V7_TEKKEN, mistral_chat, 4, true, tekken_ids,
                   sizeof tekken_ids / sizeof tekken_ids[0]);
    return test_finish("chat-template");
}
