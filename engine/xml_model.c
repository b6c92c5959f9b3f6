/*
 * xml_model.c — reading a model file with libxml2: safe parsing (no network, no DTD, no entity
 * expansion), XIncludes restricted to the model's directory tree and the model directories,
 * RelaxNG validation against the schema compiled into the library, and the walk that turns
 * elements into graph nodes (subgraph instances expanded with qualified names and parameter
 * scopes). Every error carries FILE:LINE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/uri.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xinclude.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/op.h"
#include "sng_int.h"

#define MAX_MODEL_BYTES (16u << 20)
#define MAX_INSTANCE_DEPTH 16
/* Nodes and instances after expanding subgraphs: a few lines instantiating a subgraph twice per
 * level for 16 levels would otherwise ask for 2^16 copies (the model-level billion laughs).
 * Real models have hundreds of nodes. */
#define MAX_NODES 16384
#define XI_NS_2001 "http://www.w3.org/2001/XInclude"
#define XI_NS_2003 "http://www.w3.org/2003/XInclude"

/* The RelaxNG schema (models/sngraph.rng), embedded at build time so validation never depends
 * on where the program was installed. */
__asm__(".section .rodata\n"
        ".global sngi_schema_text\n"
        ".hidden sngi_schema_text\n"
        ".type sngi_schema_text, @object\n"
        "sngi_schema_text:\n"
        ".incbin \"" SNG_SCHEMA_FILE "\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char sngi_schema_text[];

/* ---- libxml2 error capture ------------------------------------------------------------------- */
typedef struct xml_errs {
    sng_ctx *ctx;
    int have;
    sng_status st;
} xml_errs;

static char refused_url[PATH_MAX]; /* the last URL safe_loader refused, for the message */

static void on_xml_error(void *user, xmlErrorPtr e) {
    xml_errs *x = user;
    if (x->have || !e || e->level < XML_ERR_ERROR) return;
    x->have = 1;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "error");
    size_t k = strlen(msg);
    while (k && (msg[k - 1] == '\n' || msg[k - 1] == ' ')) msg[--k] = 0;
    const char *what = e->domain == XML_FROM_RELAXNGV ? "not valid against the schema: "
                       : e->domain == XML_FROM_PARSER  ? "not well-formed XML: "
                                                       : "";
    if (e->domain == XML_FROM_XINCLUDE && refused_url[0] && strstr(msg, refused_url))
        snprintf(msg, sizeof msg,
                 "<xi:include href=\"%.900s\">: not a readable model file inside the model's "
                 "directory tree or a model directory", refused_url);
    /* libxml2's advice ("use XML_PARSE_HUGE option") is not something a model author can do. */
    if (strstr(msg, "Excessive depth in document"))
        snprintf(msg, sizeof msg, "elements nested deeper than %d levels", (int)xmlParserMaxDepth);
    sngi_fail_at(x->ctx, x->st, e->file ? e->file : "(model)", e->line, "%s%s", what, msg);
}

/* ---- parser hooks ------------------------------------------------------------------------------
 * Installed on the context of the model file and on every context libxml2 creates to parse an
 * XIncluded file (the external entity loader sees it first). */
static xml_errs *cur_errs; /* the load in progress (libxml2 state is process-global anyway) */

/* A DOCTYPE (internal subset, external DTD, entity declarations) stops the parse at once:
 * no entity is ever declared, so none can be expanded (billion laughs) or loaded (XXE). */
static void on_doctype(void *user, const xmlChar *name, const xmlChar *ext_id,
                       const xmlChar *sys_id) {
    (void)name, (void)ext_id, (void)sys_id;
    xmlParserCtxtPtr pctx = user;
    if (cur_errs && !cur_errs->have) {
        cur_errs->have = 1;
        const char *file = pctx->input && pctx->input->filename ? pctx->input->filename
                                                                : "(model)";
        sngi_fail_at(cur_errs->ctx, SNG_ERR_XML, file, pctx->input ? pctx->input->line : 1,
                     "<!DOCTYPE>: DTDs and entity declarations are not allowed in model files");
    }
    xmlStopParser(pctx);
    pctx->wellFormed = 0; /* so libxml2 (and XInclude) discards the partial document */
}

/* libxml2 records the line where a start tag ENDS; errors must name the line where the element
 * begins. At this callback input->cur is at the tag's closing '>' or '/>', and '<' cannot occur
 * inside attribute values, so the tag starts at the nearest '<' before it. */
static void on_start_element(void *user, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri, int nb_ns, const xmlChar **ns, int nb_attrs,
                             int nb_defaulted, const xmlChar **attrs) {
    xmlParserCtxtPtr pctx = user;
    xmlSAX2StartElementNs(user, localname, prefix, uri, nb_ns, ns, nb_attrs, nb_defaulted, attrs);
    xmlNodePtr n = pctx->node;
    xmlParserInputPtr in = pctx->input;
    if (!n || n->type != XML_ELEMENT_NODE || !in || !in->cur || !in->base) return;
    int nl = 0;
    const xmlChar *p = in->cur;
    while (p > in->base && p[-1] != '<') {
        if (p[-1] == '\n') nl++;
        p--;
    }
    if (p == in->base) return; /* the tag's start was already discarded: keep libxml2's line */
    if (nl && n->line > nl && n->line < 65535) n->line = (unsigned short)(n->line - nl);
}

static void install_hooks(xmlParserCtxtPtr pctx) {
    if (!pctx || !pctx->sax) return;
    pctx->sax->internalSubset = on_doctype;
    pctx->sax->startElementNs = on_start_element;
}

/* ---- where XInclude may read ----------------------------------------------------------------- */
static char **allowed_roots;
static int n_allowed_roots;
static xmlExternalEntityLoader prev_loader;

static int path_under(const char *real, const char *root) {
    size_t k = strlen(root);
    return strncmp(real, root, k) == 0 && (real[k] == '/' || real[k] == 0 || root[k - 1] == '/');
}

/* Resolves a URL or path to a real file path; returns 0 and fills out when it is a readable
 * regular file under an allowed root. */
static int allowed_path(const char *url, char *out) {
    if (!url) return 0;
    if (strncmp(url, "file://", 7) == 0) url += 7;
    if (strstr(url, "://")) return 0; /* no network, no other schemes */
    char real[PATH_MAX];
    if (!realpath(url, real)) return 0;
    struct stat st;
    if (stat(real, &st) || !S_ISREG(st.st_mode)) return 0;
    for (int i = 0; i < n_allowed_roots; i++)
        if (path_under(real, allowed_roots[i])) {
            snprintf(out, PATH_MAX, "%s", real);
            return 1;
        }
    return 0;
}

static xmlParserInputPtr safe_loader(const char *url, const char *id, xmlParserCtxtPtr pctx) {
    (void)id;
    char real[PATH_MAX];
    if (!allowed_path(url, real)) {
        /* libxml2 then reports "could not load URL"; on_xml_error says why. */
        snprintf(refused_url, sizeof refused_url, "%s", url ? url : "");
        return NULL;
    }
    install_hooks(pctx); /* an XIncluded model file gets the same treatment as the main one */
    return xmlNewInputFromFile(pctx, real);
}

static void roots_clear(void) {
    for (int i = 0; i < n_allowed_roots; i++) free(allowed_roots[i]);
    free(allowed_roots);
    allowed_roots = NULL;
    n_allowed_roots = 0;
}

static void roots_add(const char *dir) {
    char real[PATH_MAX];
    if (!dir || !realpath(dir, real)) return;
    char **p = realloc(allowed_roots, sizeof(char *) * (size_t)(n_allowed_roots + 1));
    if (!p) return;
    allowed_roots = p;
    if ((p[n_allowed_roots] = strdup(real))) n_allowed_roots++;
}

/* Checks every xi:include before processing: only parse="xml" and hrefs inside the roots. */
static sng_status check_includes(sng_ctx *ctx, xmlDocPtr doc, xmlNodePtr node, const char *file) {
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (c->ns && (xmlStrEqual(c->ns->href, BAD_CAST XI_NS_2001) ||
                      xmlStrEqual(c->ns->href, BAD_CAST XI_NS_2003))) {
            xmlChar *parse = xmlGetProp(c, BAD_CAST "parse");
            xmlChar *href = xmlGetProp(c, BAD_CAST "href");
            sng_status st = SNG_OK;
            if (parse && !xmlStrEqual(parse, BAD_CAST "xml"))
                st = sngi_fail_at(ctx, SNG_ERR_XML, file, xmlGetLineNo(c),
                                  "<xi:include>: only parse=\"xml\" is allowed in model files");
            else if (!href || !*href)
                st = sngi_fail_at(ctx, SNG_ERR_XML, file, xmlGetLineNo(c),
                                  "<xi:include>: missing href");
            else {
                xmlChar *base = xmlNodeGetBase(doc, c);
                xmlChar *uri = xmlBuildURI(href, base);
                char real[PATH_MAX];
                if (!uri || !allowed_path((const char *)uri, real))
                    st = sngi_fail_at(ctx, SNG_ERR_XML, file, xmlGetLineNo(c),
                                      "<xi:include href=\"%s\">: not a readable model file inside "
                                      "the model's directory tree or a model directory",
                                      (const char *)href);
                xmlFree(base);
                xmlFree(uri);
            }
            xmlFree(parse);
            xmlFree(href);
            if (st) return st;
        } else if (c->children) {
            sng_status st = check_includes(ctx, doc, c->children, file);
            if (st) return st;
        }
    }
    return SNG_OK;
}

/* ---- XInclude bounds, checked before anything is expanded -------------------------------------
 * libxml2 expands every inclusion before anyone can count: eight 300-byte files including each
 * other ten times make 10^7 elements. So the inclusion graph is walked first, each file parsed
 * once (memoised by real path), and the elements and bytes each file would expand to are
 * summed, saturating; an include that would take the model past MAX_NODES elements, MAX_XI_BYTES
 * bytes, MAX_XI_COUNT inclusions or MAX_XI_DEPTH levels fails at its own FILE:LINE. */
#define MAX_XI_BYTES ((int64_t)MAX_MODEL_BYTES * 4)
#define MAX_XI_COUNT 4096
#define MAX_XI_DEPTH 16

typedef struct xi_file {
    char *path;          /* real path, owned */
    int64_t elems, bytes; /* what the file expands to */
    int busy;            /* being walked (a cycle if reached again) */
} xi_file;

typedef struct xi_scan {
    sng_ctx *ctx;
    xi_file *f;
    int n, cap;
    long count; /* inclusions made so far, with multiplicity */
    int opts;
} xi_scan;

static sng_status check_includes(sng_ctx *ctx, xmlDocPtr doc, xmlNodePtr node, const char *file);
static sng_status xi_count(xi_scan *x, xmlDocPtr doc, xmlNodePtr n, const char *file, int depth,
                           int64_t *elems, int64_t *bytes);

static int is_xinclude(xmlNodePtr c) {
    return c->type == XML_ELEMENT_NODE && c->ns &&
           (xmlStrEqual(c->ns->href, BAD_CAST XI_NS_2001) ||
            xmlStrEqual(c->ns->href, BAD_CAST XI_NS_2003)) &&
           xmlStrEqual(c->name, BAD_CAST "include");
}

/* What the file at real path expands to (memoised). */
static sng_status xi_file_size(xi_scan *x, const char *real, xmlNodePtr inc, const char *file,
                               int depth, int64_t *elems, int64_t *bytes) {
    for (int i = 0; i < x->n; i++)
        if (!strcmp(x->f[i].path, real)) {
            if (x->f[i].busy)
                return sngi_fail_at(x->ctx, SNG_ERR_XML, file, xmlGetLineNo(inc),
                                    "<xi:include>: the file includes itself (recursive XInclude)");
            *elems = x->f[i].elems;
            *bytes = x->f[i].bytes;
            return SNG_OK;
        }
    if (depth >= MAX_XI_DEPTH)
        return sngi_fail_at(x->ctx, SNG_ERR_XML, file, xmlGetLineNo(inc),
                            "<xi:include>: XIncludes nested deeper than %d levels", MAX_XI_DEPTH);
    if (x->n == x->cap) {
        int nc = x->cap ? 2 * x->cap : 16;
        xi_file *nf = sngi_realloc(x->f, sizeof *nf * (size_t)nc);
        if (!nf) return sngi_fail(x->ctx, SNG_ERR_NOMEM, "out of memory");
        x->f = nf;
        x->cap = nc;
    }
    int me = x->n;
    x->f[me] = (xi_file){sngi_strdup(real), 0, 0, 1};
    if (!x->f[me].path) return sngi_fail(x->ctx, SNG_ERR_NOMEM, "out of memory");
    x->n++;
    struct stat sb;
    if (stat(real, &sb) == 0 && (uint64_t)sb.st_size > MAX_MODEL_BYTES)
        return sngi_fail_at(x->ctx, SNG_ERR_XML, file, xmlGetLineNo(inc),
                            "<xi:include>: included file larger than %u bytes", MAX_MODEL_BYTES);
    xmlParserCtxtPtr pctx = xmlNewParserCtxt();
    if (!pctx) return sngi_fail(x->ctx, SNG_ERR_NOMEM, "out of memory");
    install_hooks(pctx);
    xmlDocPtr d = xmlCtxtReadFile(pctx, real, NULL, x->opts);
    xmlFreeParserCtxt(pctx);
    sng_status st = SNG_OK;
    if (!d || !cur_errs || cur_errs->have) {
        if (cur_errs && !cur_errs->have)
            sngi_fail_at(x->ctx, SNG_ERR_XML, file, xmlGetLineNo(inc),
                         "<xi:include>: the included file is not well-formed XML");
        st = SNG_ERR_XML;
    }
    if (!st) st = check_includes(x->ctx, d, xmlDocGetRootElement(d), real);
    int64_t e = 0, b = (int64_t)sb.st_size;
    if (!st) st = xi_count(x, d, xmlDocGetRootElement(d), real, depth + 1, &e, &b);
    xmlFreeDoc(d);
    x->f[me].elems = e;
    x->f[me].bytes = b;
    x->f[me].busy = 0;
    *elems = e;
    *bytes = b;
    return st;
}

/* Adds to *elems and *bytes what the subtree n (siblings included) expands to. */
static sng_status xi_count(xi_scan *x, xmlDocPtr doc, xmlNodePtr n, const char *file, int depth,
                           int64_t *elems, int64_t *bytes) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (!is_xinclude(n)) {
            ++*elems;
            sng_status st = n->children ? xi_count(x, doc, n->children, file, depth, elems, bytes)
                                        : SNG_OK;
            if (st) return st;
            continue;
        }
        xmlChar *href = xmlGetProp(n, BAD_CAST "href");
        xmlChar *base = xmlNodeGetBase(doc, n);
        xmlChar *uri = href ? xmlBuildURI(href, base) : NULL;
        char real[PATH_MAX];
        int ok = uri && allowed_path((const char *)uri, real);
        xmlFree(href);
        xmlFree(base);
        xmlFree(uri);
        if (!ok) continue; /* check_includes (or libxml2's loader) reports it */
        int64_t e = 0, b = 0;
        sng_status st = xi_file_size(x, real, n, file, depth, &e, &b);
        if (st) return st;
        *elems += e;
        *bytes += b;
        if (++x->count > MAX_XI_COUNT || *elems > MAX_NODES || *bytes > MAX_XI_BYTES)
            return sngi_fail_at(x->ctx, SNG_ERR_MODEL, file, xmlGetLineNo(n),
                                "<xi:include>: the model would exceed %s once included (limits: "
                                "%d elements, %lld bytes, %d inclusions)",
                                x->count > MAX_XI_COUNT ? "the number of inclusions"
                                : *elems > MAX_NODES   ? "the element limit"
                                                       : "the size limit",
                                MAX_NODES, (long long)MAX_XI_BYTES, MAX_XI_COUNT);
    }
    return SNG_OK;
}

/* Walks the inclusions of doc before libxml2 expands them (see above). */
static sng_status bound_includes(sng_ctx *ctx, xmlDocPtr doc, xmlNodePtr root, const char *file,
                                 size_t len, int opts) {
    xi_scan x = {ctx, NULL, 0, 0, 0, opts};
    int64_t e = 0, b = (int64_t)len;
    sng_status st = xi_count(&x, doc, root, file, 0, &e, &b);
    for (int i = 0; i < x.n; i++) free(x.f[i].path);
    free(x.f);
    return st;
}

/* The k-th element (1-based, document order) under and including n, or NULL if fewer. */
static xmlNodePtr nth_element(xmlNodePtr n, long k) {
    long seen = 0;
    while (n) {
        if (n->type == XML_ELEMENT_NODE && ++seen == k) return n;
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && !n->next) {
            n = n->parent;
            if (n && n->type == XML_DOCUMENT_NODE) n = NULL;
        }
        if (n) n = n->next;
    }
    return NULL;
}

/* Parses and validates; on success *out owns the document (xmlFreeDoc). */
static sng_status parse_doc(sng_ctx *ctx, const char *text, size_t len, const char *file,
                            const char *base_dir, xmlDocPtr *out) {
    *out = NULL;
    xml_errs errs = {ctx, 0, SNG_ERR_XML};
    xmlSetStructuredErrorFunc(&errs, on_xml_error);
    cur_errs = &errs;
    refused_url[0] = 0;
    roots_clear();
    if (base_dir) roots_add(base_dir);
    for (int i = 0; i < ctx->n_model_dirs; i++) roots_add(ctx->model_dirs[i]);
    prev_loader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(safe_loader);

    sng_status st = SNG_OK;
    /* No XML_PARSE_NOENT, DTDLOAD, DTDVALID or HUGE: entities are never substituted, no DTD
     * is read, and libxml2's depth and size limits stay on. */
    const int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOXINCNODE;
    xmlDocPtr doc = NULL;
    xmlParserCtxtPtr pctx = NULL;
    if (len > INT_MAX) {
        st = sngi_fail_at(ctx, SNG_ERR_XML, file, 0, "model file too large");
        goto out;
    }
    if (!(pctx = xmlNewParserCtxt())) {
        st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
        goto out;
    }
    install_hooks(pctx);
    doc = xmlCtxtReadMemory(pctx, text, (int)len, file, NULL, opts);
    xmlFreeParserCtxt(pctx);
    if (!doc || errs.have) {
        if (!errs.have) sngi_fail_at(ctx, SNG_ERR_XML, file, 1, "not a well-formed XML document");
        st = SNG_ERR_XML;
        goto out;
    }
    if (doc->intSubset || doc->extSubset) { /* on_doctype stops the parse before this */
        st = sngi_fail_at(ctx, SNG_ERR_XML, file, 1,
                          "<!DOCTYPE>: DTDs and entity declarations are not allowed in model "
                          "files");
        goto out;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        st = sngi_fail_at(ctx, SNG_ERR_XML, file, 1, "empty document");
        goto out;
    }
    if ((st = check_includes(ctx, doc, root, file))) goto out;
    if ((st = bound_includes(ctx, doc, root, file, len, opts))) goto out;
    if (xmlXIncludeProcessFlags(doc, opts) < 0) {
        if (!errs.have) sngi_fail_at(ctx, SNG_ERR_XML, file, 1, "XInclude processing failed");
        st = SNG_ERR_XML;
        goto out;
    }
    /* libxml2's RelaxNG validation is quadratic in the number of sibling elements (60,000
     * take seconds): bound the document first. */
    xmlNodePtr big = nth_element(root, MAX_NODES + 1);
    if (big) {
        st = sngi_fail_at(ctx, SNG_ERR_MODEL, file, (int)xmlGetLineNo(big),
                          "<%s>: the model has more than %d elements", (const char *)big->name,
                          MAX_NODES);
        goto out;
    }
    /* Validate against the embedded schema. */
    xmlRelaxNGParserCtxtPtr pc =
        xmlRelaxNGNewMemParserCtxt(sngi_schema_text, (int)strlen(sngi_schema_text));
    xmlRelaxNGPtr schema = pc ? xmlRelaxNGParse(pc) : NULL;
    xmlRelaxNGFreeParserCtxt(pc);
    if (!schema) {
        st = sngi_fail(ctx, SNG_ERR_INTERNAL, "internal error: the embedded schema does not parse");
        goto out;
    }
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
    errs.st = SNG_ERR_XML;
    xmlRelaxNGSetValidStructuredErrors(vc, on_xml_error, &errs);
    int rc = vc ? xmlRelaxNGValidateDoc(vc, doc) : -1;
    xmlRelaxNGFreeValidCtxt(vc);
    xmlRelaxNGFree(schema);
    if (rc != 0) {
        if (!errs.have) sngi_fail_at(ctx, SNG_ERR_XML, file, 1, "not valid against the schema");
        st = SNG_ERR_XML;
        goto out;
    }
out:
    xmlSetExternalEntityLoader(prev_loader);
    xmlSetStructuredErrorFunc(NULL, NULL);
    cur_errs = NULL;
    roots_clear();
    if (st) {
        xmlFreeDoc(doc);
        return st;
    }
    *out = doc;
    return SNG_OK;
}

/* ---- the walk --------------------------------------------------------------------------------- */
typedef struct walk {
    sng_ctx *ctx;
    sng_graph *g;
    xmlDocPtr doc;
    xmlNodePtr *subs; /* <subgraph> elements by name */
    int n_subs;
    int n_instances;  /* instances expanded so far (bounded by MAX_NODES) */
} walk;

/* File of a node: the xml:base of an included part, else the document URL. Owned by g. */
static const char *node_file(walk *w, xmlNodePtr n) {
    xmlChar *base = xmlNodeGetBase(w->doc, n);
    const char *f = sngi_graph_intern(w->g, base ? (const char *)base : (const char *)w->doc->URL);
    xmlFree(base);
    return f ? f : "(model)";
}

static int is_elem(xmlNodePtr n, const char *name) {
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/* Copies attribute `key` into buf: 1; 0 if absent; -1 (buf "") if it does not fit, which the
 * caller refuses: a cut name would silently mean another one. */
static int get_attr(xmlNodePtr n, const char *key, char *buf, size_t len) {
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST key);
    if (!v) return 0;
    size_t k = strlen((const char *)v);
    int fits = k < len;
    if (fits) memcpy(buf, v, k + 1);
    else if (len) buf[0] = 0;
    xmlFree(v);
    return fits ? 1 : -1;
}

/* Longest qualified name ("left/inner/conv1", or a parameter scope) the reader builds. */
#define QNAME_MAX 1024

/* A scope: how names of the current (sub)graph map to qualified names. */
typedef struct scope {
    const char *prefix;   /* "" at top level, "left" or "left/inner" inside instances */
    const char *pscope;   /* parameter scope: "" at top level */
    const char *instance; /* qualified instance name or NULL */
} scope;

/* Joins a and b with '/' (just b when a is "") into out[n]: 0, or -1 when it does not fit. */
static int join(const char *a, const char *b, char *out, size_t n) {
    int k = *a ? snprintf(out, n, "%s/%s", a, b) : snprintf(out, n, "%s", b);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

static int qualify(const scope *s, const char *local, char *out, size_t n) {
    return join(s->prefix, local, out, n);
}

static sng_status too_long(walk *w, xmlNodePtr e, const char *what, const char *a,
                           const char *b) {
    return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, e), xmlGetLineNo(e),
                        "<%s>: %s '%.64s%s%.64s...' is longer than %d bytes",
                        (const char *)e->name, what, a, *a ? "/" : "", b, QNAME_MAX - 1);
}

static int valid_name(const char *s) {
    if (!*s || strlen(s) >= SNG_MAX_NAME) return 0;
    for (const char *p = s; *p; p++)
        if (!(*p == '_' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

static sng_status walk_body(walk *w, xmlNodePtr first, const scope *s, int depth);

static sng_status need_name(walk *w, xmlNodePtr e, char *name, size_t len) {
    int r = get_attr(e, "name", name, len);
    if (r == 0)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, e), xmlGetLineNo(e),
                            "<%s>: missing required attribute 'name'", (const char *)e->name);
    if (r < 0)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, e), xmlGetLineNo(e),
                            "<%s>: attribute 'name' is longer than %zu bytes",
                            (const char *)e->name, len - 1);
    if (!valid_name(name))
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, e), xmlGetLineNo(e),
                            "<%s name=\"%s\">: names use letters, digits, '_', '-', '.' only",
                            (const char *)e->name, name);
    return SNG_OK;
}

/* Adds the whitespace-separated references of `in` (any length) to node id, qualified in
 * scope s; e is the element, for messages. */
static sng_status add_inputs(walk *w, xmlNodePtr e, int id, const char *in, const scope *s) {
    char *buf = sngi_strdup(in);
    if (!buf) return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
    sng_status st = SNG_OK;
    for (char *save = NULL, *tok = strtok_r(buf, " \t\n,", &save); tok && !st;
         tok = strtok_r(NULL, " \t\n,", &save)) {
        char q[QNAME_MAX];
        if (qualify(s, tok, q, sizeof q))
            st = too_long(w, e, "input reference", s->prefix, tok);
        else
            st = sngi_node_add_in(w->ctx, w->g, id, q);
    }
    free(buf);
    return st;
}

/* An op element (or <input>) becomes one node. */
static sng_status walk_op(walk *w, xmlNodePtr e, const scope *s) {
    char name[SNG_MAX_NAME], q[QNAME_MAX];
    sng_status st = need_name(w, e, name, sizeof name);
    if (st) return st;
    if (qualify(s, name, q, sizeof q)) return too_long(w, e, "qualified name", s->prefix, name);
    if (w->g->n_nodes >= MAX_NODES)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, e), xmlGetLineNo(e),
                            "<%s name=\"%s\">: the model has more than %d nodes once subgraph "
                            "instances are expanded",
                            (const char *)e->name, q, MAX_NODES);
    int id;
    if ((st = sngi_graph_add_node(w->ctx, w->g, q, (const char *)e->name, node_file(w, e),
                                  xmlGetLineNo(e), &id)))
        return st;
    sngi_node *n = &w->g->nodes[id];
    if (s->instance && !(n->instance = sngi_strdup(s->instance)))
        return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
    if (!(n->scope = sngi_strdup(s->pscope)))
        return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
    for (xmlAttrPtr a = e->properties; a; a = a->next) {
        if (a->ns) continue; /* xml:base and other namespaced attributes belong to XML */
        xmlChar *v = xmlNodeListGetString(w->doc, a->children, 1);
        const char *key = (const char *)a->name, *val = v ? (const char *)v : "";
        if (strcmp(key, "name") == 0)
            st = SNG_OK;
        else if (strcmp(key, "in") == 0)
            st = add_inputs(w, e, id, val, s);
        else
            st = sngi_node_add_kv(w->ctx, w->g, id, key, val, xmlGetLineNo(e));
        xmlFree(v);
        if (st) return st;
    }
    return SNG_OK;
}

static xmlNodePtr find_sub(walk *w, const char *name) {
    for (int i = 0; i < w->n_subs; i++) {
        char n[SNG_MAX_NAME];
        if (get_attr(w->subs[i], "name", n, sizeof n) == 1 && strcmp(n, name) == 0)
            return w->subs[i];
    }
    return NULL;
}

/* <instance name="left" of="backbone" in="img_a" params="shared"/> */
static sng_status walk_instance(walk *w, xmlNodePtr e, const scope *s, int depth) {
    char name[SNG_MAX_NAME], of[SNG_MAX_NAME], params[SNG_MAX_NAME];
    const char *file = node_file(w, e);
    int line = xmlGetLineNo(e);
    sng_status st = need_name(w, e, name, sizeof name);
    if (st) return st;
    int r = get_attr(e, "of", of, sizeof of);
    if (r <= 0)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                            r ? "<instance name=\"%s\">: attribute 'of' is too long"
                              : "<instance name=\"%s\">: missing attribute 'of' (the subgraph)",
                            name);
    if (depth >= MAX_INSTANCE_DEPTH)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                            "<instance name=\"%s\">: instances nested deeper than %d (recursive "
                            "subgraph?)",
                            name, MAX_INSTANCE_DEPTH);
    if (++w->n_instances > MAX_NODES)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                            "<instance name=\"%s\">: the model has more than %d instances once "
                            "subgraph instances are expanded",
                            name, MAX_NODES);
    xmlNodePtr sub = find_sub(w, of);
    if (!sub)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                            "<instance name=\"%s\">: no <subgraph name=\"%s\"> in the model", name,
                            of);
    for (xmlAttrPtr a = e->properties; a; a = a->next)
        if (!a->ns && !xmlStrEqual(a->name, BAD_CAST "name") &&
            !xmlStrEqual(a->name, BAD_CAST "of") && !xmlStrEqual(a->name, BAD_CAST "in") &&
            !xmlStrEqual(a->name, BAD_CAST "params"))
            return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                                "<instance name=\"%s\">: unknown attribute '%s'", name,
                                (const char *)a->name);
    char q[QNAME_MAX], ps[QNAME_MAX];
    if (qualify(s, name, q, sizeof q)) return too_long(w, e, "qualified name", s->prefix, name);
    /* Parameter scope: instances naming the same `params` share every parameter (tied);
     * without it the instance owns its parameters (scope = its qualified name). A scope that
     * does not fit is refused: cut, two scopes would merge their tensors. */
    if ((r = get_attr(e, "params", params, sizeof params)) != 0) {
        if (r < 0 || !valid_name(params))
            return sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                                "<instance name=\"%s\">: bad params scope '%.64s'", name, params);
        if (join(s->pscope, params, ps, sizeof ps))
            return too_long(w, e, "parameter scope", s->pscope, params);
    } else {
        memcpy(ps, q, strlen(q) + 1);
    }
    /* Map the subgraph's inputs (in order) to the instance's `in` references (any number). */
    xmlChar *inv = xmlGetNoNsProp(e, BAD_CAST "in");
    char *in = sngi_strdup(inv ? (const char *)inv : "");
    xmlFree(inv);
    size_t cap_refs = in ? strlen(in) / 2 + 1 : 0;
    char **refs = in ? sngi_malloc(sizeof(char *) * cap_refs) : NULL;
    if (!refs) {
        free(in);
        return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
    }
    int n_refs = 0;
    for (char *save = NULL, *tok = strtok_r(in, " \t\n,", &save); tok;
         tok = strtok_r(NULL, " \t\n,", &save))
        refs[n_refs++] = tok; /* each token takes at least 2 bytes of `in` with its separator */
    int k = 0;
    for (xmlNodePtr c = sub->children; c && !st; c = c->next) {
        if (!is_elem(c, "input")) continue;
        char iname[SNG_MAX_NAME], from[QNAME_MAX], to[QNAME_MAX];
        if ((st = need_name(w, c, iname, sizeof iname))) break;
        if (k >= n_refs) {
            st = sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                              "<instance name=\"%s\">: subgraph '%s' has more inputs than the "
                              "%d given in in=\"...\" (missing one for '%s')",
                              name, of, n_refs, iname);
            break;
        }
        if (join(q, iname, from, sizeof from))
            st = too_long(w, e, "qualified name", q, iname);
        else if (qualify(s, refs[k], to, sizeof to))
            st = too_long(w, e, "input reference", s->prefix, refs[k]);
        else
            st = sngi_graph_add_alias(w->ctx, w->g, from, to, file, line);
        k++;
    }
    if (!st && k != n_refs)
        st = sngi_fail_at(w->ctx, SNG_ERR_MODEL, file, line,
                          "<instance name=\"%s\">: %d inputs given but subgraph '%s' has %d", name,
                          n_refs, of, k);
    free(refs);
    free(in);
    if (st) return st;
    /* The instance's name refers to the subgraph's first <output>. */
    int have_out = 0;
    for (xmlNodePtr c = sub->children; c; c = c->next) {
        if (!is_elem(c, "output")) continue;
        char oname[SNG_MAX_NAME], to[QNAME_MAX];
        if ((st = need_name(w, c, oname, sizeof oname))) return st;
        if (join(q, oname, to, sizeof to)) return too_long(w, e, "qualified name", q, oname);
        if (!have_out && (st = sngi_graph_add_alias(w->ctx, w->g, q, to, file, line))) return st;
        have_out = 1;
    }
    if (!have_out)
        return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, sub), xmlGetLineNo(sub),
                            "<subgraph name=\"%s\">: has no <output>", of);
    scope inner = {q, ps, q};
    return walk_body(w, sub->children, &inner, depth + 1);
}

/* <train>/<data> sections become dotted configuration keys. */
static sng_status walk_cfg(walk *w, xmlNodePtr e, const char *prefix) {
    char key[512];
    int kl = snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", (const char *)e->name);
    if (kl < 0 || (size_t)kl >= sizeof key) return too_long(w, e, "setting", prefix, "");
    for (xmlAttrPtr a = e->properties; a; a = a->next) {
        if (a->ns) continue;
        char k2[600];
        kl = snprintf(k2, sizeof k2, "%s.%s", key, (const char *)a->name);
        if (kl < 0 || (size_t)kl >= sizeof k2)
            return too_long(w, e, "setting", key, (const char *)a->name);
        xmlChar *v = xmlNodeListGetString(w->doc, a->children, 1);
        sng_status st = sngi_cfg_add(w->ctx, w->g, k2, v ? (const char *)v : "", node_file(w, e),
                                     xmlGetLineNo(e));
        xmlFree(v);
        if (st) return st;
    }
    for (xmlNodePtr c = e->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) {
            sng_status st = walk_cfg(w, c, key);
            if (st) return st;
        }
    return SNG_OK;
}

static sng_status walk_body(walk *w, xmlNodePtr first, const scope *s, int depth) {
    sng_status st = SNG_OK;
    for (xmlNodePtr c = first; c && !st; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (is_elem(c, "subgraph")) continue; /* collected up front */
        if (is_elem(c, "input")) {
            if (*s->prefix) continue; /* subgraph inputs are aliases made by the instance */
            st = walk_op(w, c, s);
        } else if (is_elem(c, "output")) {
            if (*s->prefix) continue; /* subgraph outputs are aliases made by the instance */
            char name[SNG_MAX_NAME];
            if ((st = need_name(w, c, name, sizeof name))) break;
            sng_graph *g = w->g;
            int *o = sngi_realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
            if (o) g->outputs = o;
            int *l = sngi_realloc(g->out_line, sizeof(int) * (size_t)(g->n_outputs + 1));
            if (l) g->out_line = l;
            char **r = sngi_realloc(g->out_ref, sizeof(char *) * (size_t)(g->n_outputs + 1));
            if (r) g->out_ref = r;
            if (!o || !l || !r || !(r[g->n_outputs] = sngi_strdup(name)))
                return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
            l[g->n_outputs] = xmlGetLineNo(c);
            o[g->n_outputs++] = -1;
        } else if (is_elem(c, "instance")) {
            st = walk_instance(w, c, s, depth);
        } else if (is_elem(c, "train") || is_elem(c, "data") || is_elem(c, "eval")) {
            if (*s->prefix)
                st = sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, c), xmlGetLineNo(c),
                                  "<%s>: only allowed in <model>", (const char *)c->name);
            else
                st = walk_cfg(w, c, "");
        } else {
            st = walk_op(w, c, s);
        }
    }
    return st;
}

static sng_status collect_subs(walk *w, xmlNodePtr root) {
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!is_elem(c, "subgraph")) continue;
        char name[SNG_MAX_NAME];
        sng_status st = need_name(w, c, name, sizeof name);
        if (st) return st;
        if (find_sub(w, name))
            return sngi_fail_at(w->ctx, SNG_ERR_MODEL, node_file(w, c), xmlGetLineNo(c),
                                "<subgraph name=\"%s\">: duplicate subgraph name", name);
        xmlNodePtr *p = sngi_realloc(w->subs, sizeof(xmlNodePtr) * (size_t)(w->n_subs + 1));
        if (!p) return sngi_fail(w->ctx, SNG_ERR_NOMEM, "out of memory");
        w->subs = p;
        p[w->n_subs++] = c;
    }
    return SNG_OK;
}

/* Resolves each <output name> through the aliases (an instance name means its output). */
static sng_status resolve_outputs(walk *w) {
    sng_graph *g = w->g;
    for (int i = 0; i < g->n_outputs; i++) {
        const char *cur = g->out_ref[i];
        int id = -1;
        for (int d = 0; d < 64 && cur; d++) {
            if ((id = sngi_graph_find(g, cur)) >= 0) break;
            const char *next = NULL;
            for (int j = 0; j < g->n_alias; j++)
                if (strcmp(g->alias_from[j], cur) == 0) next = g->alias_to[j];
            cur = next;
        }
        if (id < 0)
            return sngi_fail_at(w->ctx, SNG_ERR_MODEL, g->file, g->out_line[i],
                                "<output name=\"%s\">: refers to no node or instance",
                                g->out_ref[i]);
        for (int j = 0; j < i; j++)
            if (g->outputs[j] == id)
                return sngi_fail_at(w->ctx, SNG_ERR_MODEL, g->file, g->out_line[i],
                                    "<output name=\"%s\">: duplicate output", g->out_ref[i]);
        g->outputs[i] = id;
    }
    return SNG_OK;
}

static sng_status build(sng_ctx *ctx, sng_graph *g, xmlDocPtr doc, int *root_line) {
    xmlNodePtr root = xmlDocGetRootElement(doc);
    *root_line = (int)xmlGetLineNo(root);
    g->line = *root_line;
    walk w = {ctx, g, doc, NULL, 0, 0};
    char name[SNG_MAX_NAME] = "model";
    if (get_attr(root, "name", name, sizeof name) < 0)
        return sngi_fail_at(ctx, SNG_ERR_MODEL, g->file, *root_line,
                            "<model>: attribute 'name' is longer than %d bytes", SNG_MAX_NAME - 1);
    if (!(g->name = sngi_strdup(name))) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    scope top = {"", "", NULL};
    sng_status st = collect_subs(&w, root);
    if (!st) st = walk_body(&w, root->children, &top, 0);
    if (!st) st = resolve_outputs(&w);
    free(w.subs);
    return st;
}

/* ---- public entry points ---------------------------------------------------------------------- */
static sng_status load_text(sng_ctx *ctx, char *text, size_t len, const char *file,
                            const char *base_dir, const sng_setting *set, int n_set,
                            sng_graph **out) {
    *out = NULL;
    xmlDocPtr doc = NULL;
    sng_graph *g = sngi_graph_new();
    if (!g) {
        free(text);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    g->xml_text = text;
    g->xml_len = len;
    if (!(g->file = sngi_strdup(file))) {
        sng_graph_free(g);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    int root_line = 1;
    sng_status st = parse_doc(ctx, text, len, file, base_dir, &doc);
    if (!st) st = build(ctx, g, doc, &root_line);
    if (!st) {
        /* Keep the model as run, XIncludes expanded, so a checkpoint is self-contained. */
        xmlChar *mem = NULL;
        int n = 0;
        xmlDocDumpMemory(doc, &mem, &n);
        if (mem && (g->xml_expanded = sngi_malloc((size_t)n + 1))) {
            memcpy(g->xml_expanded, mem, (size_t)n);
            g->xml_expanded[n] = 0;
            g->xml_expanded_len = (size_t)n;
        }
        xmlFree(mem);
        if (!g->xml_expanded) st = sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    xmlFreeDoc(doc);
    for (int i = 0; !st && i < n_set; i++) st = sngi_cfg_set(ctx, g, set[i].key, set[i].value);
    if (!st) st = sngi_graph_compile(ctx, g);
    if (st) {
        sng_graph_free(g);
        return st;
    }
    *out = g;
    return SNG_OK;
}

sng_status sng_graph_load_string(sng_ctx *ctx, const char *xml, size_t len, const char *name,
                                 const char *base_dir, sng_graph **out) {
    *out = NULL;
    char *copy = sngi_malloc(len + 1);
    if (!copy) return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    if (len) memcpy(copy, xml, len);
    copy[len] = 0;
    return load_text(ctx, copy, len, name ? name : "(string)", base_dir, NULL, 0, out);
}

/* Finds the model file: the path itself, else NAME[.xml] in each model directory. A path that
 * does not fit in out is not found (never a cut path that names another file). */
static int find_model(sng_ctx *ctx, const char *path, char *out, size_t n) {
    struct stat st;
    if (stat(path, &st) == 0) {
        int k = snprintf(out, n, "%s", path);
        return k >= 0 && (size_t)k < n;
    }
    if (strchr(path, '/')) return 0;
    int has_ext = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".xml") == 0;
    for (int i = 0; i < ctx->n_model_dirs; i++) {
        int k = snprintf(out, n, "%s/%s%s", ctx->model_dirs[i], path, has_ext ? "" : ".xml");
        if (k >= 0 && (size_t)k < n && stat(out, &st) == 0) return 1;
    }
    return 0;
}

sng_status sng_graph_load(sng_ctx *ctx, const char *path, const sng_setting *settings,
                          int n_settings, sng_graph **out) {
    *out = NULL;
    char file[PATH_MAX];
    if (!find_model(ctx, path, file, sizeof file))
        return sngi_fail(ctx, SNG_ERR_IO, "%s: no such model file%s", path,
                         strchr(path, '/') ? "" : " (nor in the model directories)");
    /* Non-blocking open then fstat: a FIFO is refused instead of blocking the open. */
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: %s", file, strerror(e));
    }
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: not a regular file", file);
    }
    if ((uint64_t)st.st_size > MAX_MODEL_BYTES) {
        fclose(f);
        return sngi_fail(ctx, SNG_ERR_XML, "%s:1: error: model file larger than %u bytes", file,
                         MAX_MODEL_BYTES);
    }
    size_t len = (size_t)st.st_size;
    char *text = sngi_malloc(len + 1);
    if (!text) {
        fclose(f);
        return sngi_fail(ctx, SNG_ERR_NOMEM, "out of memory");
    }
    if (fread(text, 1, len, f) != len) {
        fclose(f);
        free(text);
        return sngi_fail(ctx, SNG_ERR_IO, "%s: read error", file);
    }
    fclose(f);
    text[len] = 0;
    if (len == 0) {
        free(text);
        return sngi_fail(ctx, SNG_ERR_XML, "%s:1: error: empty file", file);
    }
    char dir[PATH_MAX];
    memcpy(dir, file, strlen(file) + 1); /* file fits in PATH_MAX (find_model) */
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    return load_text(ctx, text, len, file, dir, settings, n_settings, out);
}
