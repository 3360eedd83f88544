import Images from '../images.js'

/** `image ls`: the same as `images`. */
export default class ImageLs extends Images {
  static override description = 'List images (same as `images`)'
  static override aliases = ['image:list']
  static override examples = ['<%= config.bin %> image ls']
}
