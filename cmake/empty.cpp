// Keeps support libraries valid when a folder has no sources yet.
