/** The provider plugins under test, as users import them. */
export * from '../../plugins/providers/index.ts'
export * as presets from '../../plugins/providers/presets/index.ts'
