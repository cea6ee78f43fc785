declare module 'virtual:exhibit/face-model' {
  /** URL of the BlazeFace short-range model with TFLite metadata, served by the app. */
  const url: string;
  export default url;
}
