"""Pure-Python policy search engine (no Django imports).

Modules:
    numerals   Chinese numerals <-> int
    corpus     load the lawrefbook corpus, split laws into articles, detect superseded versions
    tokenizer  jieba-based tokenisation with a civil-affairs user dictionary
    synonyms   plain-word -> legal-word query expansion
    index      build / save / load the BM25 index (bm25s)
    search     Searcher: ranked search with filters, snippets, related articles
    highlight  HTML-safe snippets with <mark>
    qa         curated question-answer matching with fallback to article search
"""
