/** First-party plugins other than providers (those live in `sluice/plugins/providers`). */
export {}
