"""Converse citations -> Anthropic citations.

Converse says where a citation points by which location member it carries; Anthropic by
the citation's ``type``. Character ranges cite text documents, pages cite PDFs, chunks
cite content documents. The cited text is Converse's ``sourceContent``, joined.
"""

from __future__ import annotations

from domain.vocab import anthropic as a
from domain.vocab import converse as c


def citation(cited: c.Citation) -> a.Citation | None:
    """The Anthropic citation for a Converse one; None when its location has no equivalent."""
    text = "".join(part.text for part in cited.source_content)
    title = cited.title
    match cited.location:
        case c.DocumentCharLocation(document_char=span):
            return a.CharLocation(
                type="char_location",
                cited_text=text,
                document_index=span.document_index,
                document_title=title,
                start_char_index=span.start,
                end_char_index=span.end,
            )
        case c.DocumentPageLocation(document_page=span):
            return a.PageLocation(
                type="page_location",
                cited_text=text,
                document_index=span.document_index,
                document_title=title,
                start_page_number=span.start,
                end_page_number=span.end,
            )
        case c.DocumentChunkLocation(document_chunk=span):
            return a.ContentBlockLocation(
                type="content_block_location",
                cited_text=text,
                document_index=span.document_index,
                document_title=title,
                start_block_index=span.start,
                end_block_index=span.end,
            )
    return None


def cited_text_block(block: c.CitationsBlock) -> a.TextBlock:
    """A cited part of an answer as one Anthropic text block carrying its citations.

    Bedrock splits a cited answer into plain ``text`` blocks and ``citationsContent``
    blocks, as Anthropic splits it into text blocks with and without citations, so the
    blocks map one to one and no text is lost.
    """
    converted = (citation(cited) for cited in block.citations)
    return a.TextBlock(
        type="text",
        text="".join(part.text for part in block.content),
        citations=tuple(cited for cited in converted if cited is not None),
    )
