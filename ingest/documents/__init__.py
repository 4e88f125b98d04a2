"""Binary documents (PDF, DOCX, PPTX, XLSX, EPUB): their bounds, the zip guard, and the
sandbox process in which every parse runs, so a hostile file fails only its own item."""
