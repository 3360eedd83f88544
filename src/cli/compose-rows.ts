/** docker compose's listing rows (`compose ps`, `compose ls`, `compose images`) for --format. */
import {ellipsis, portsText, statusText} from './ps-row.js'
import {ago} from './table.js'
import {containerCommand} from '../engine/containers.js'
import type {ListingFormat} from '../format/output.js'
import {COMPOSE_LABELS as L} from '../compose/model/types.js'
import type {ProjectContainer} from '../compose/project/state.js'

export const COMPOSE_PS_FORMAT: ListingFormat = {
  defaultTable: '{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}',
  headers: {ID: 'CONTAINER ID', Name: 'NAME', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', Service: 'SERVICE', Project: 'PROJECT', RunningFor: 'CREATED', CreatedAt: 'CREATED AT', Status: 'STATUS', State: 'STATE', Health: 'HEALTH', ExitCode: 'EXIT CODE', Ports: 'PORTS', Label: () => 'LABEL', Labels: 'LABELS'},
}

export class ComposePsRow {
  readonly #c: ProjectContainer
  readonly #project: string
  readonly #trunc: boolean
  readonly #image?: string
  /** `image`: the service's image as the file names it (docker compose shows that, not the normalized reference). */
  constructor(project: string, c: ProjectContainer, trunc: boolean, image?: string) {
    this.#c = c
    this.#project = project
    this.#trunc = trunc
    this.#image = image
  }
  get ID(): string {
    return this.#trunc ? this.#c.id.slice(0, 12) : this.#c.id
  }
  get Name(): string {
    return this.#c.name
  }
  get Names(): string {
    return this.#c.name
  }
  get Image(): string {
    return this.#image ?? this.#c.summary.record.imageRef
  }
  get Command(): string {
    const cmd = containerCommand(this.#c.summary.record).join(' ')
    return JSON.stringify(this.#trunc ? ellipsis(cmd, 20) : cmd)
  }
  get Project(): string {
    return this.#project
  }
  get Service(): string {
    return this.#c.service
  }
  get RunningFor(): string {
    return ago(this.#c.summary.record.created)
  }
  get CreatedAt(): string {
    return this.#c.summary.record.created
  }
  get State(): string {
    const s = this.#c.summary.status
    return s.restarting ? 'restarting' : s.status
  }
  get Status(): string {
    return statusText(this.#c.summary.status)
  }
  get Health(): string {
    return this.#c.summary.status.health?.Status ?? ''
  }
  get ExitCode(): number {
    return this.#c.summary.status.exit?.exitCode ?? 0
  }
  get Ports(): string {
    return portsText(this.#c.summary.ports)
  }
  get Labels(): string {
    return Object.entries(this.#c.summary.record.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
  }
  Label(key: string): string {
    return this.#c.summary.record.labels[key] ?? ''
  }
  toJSON(): Record<string, unknown> {
    return {
      Command: this.Command,
      CreatedAt: this.CreatedAt,
      ExitCode: this.ExitCode,
      Health: this.Health,
      ID: this.ID,
      Image: this.Image,
      Labels: this.Labels,
      Name: this.Name,
      Names: this.Names,
      Project: this.Project,
      Publishers: this.#c.summary.ports.map((p) => ({URL: p.hostIp, TargetPort: p.containerPort, PublishedPort: p.hostPort, Protocol: p.protocol})),
      RunningFor: this.RunningFor,
      Service: this.Service,
      State: this.State,
      Status: this.Status,
    }
  }
}

export const COMPOSE_LS_FORMAT: ListingFormat = {
  defaultTable: '{{.Name}}\t{{.Status}}\t{{.ConfigFiles}}',
  headers: {Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES'},
}

export class ComposeLsRow {
  constructor(readonly p: {name: string; status: string; configFiles: string}) {}
  get Name(): string {
    return this.p.name
  }
  get Status(): string {
    return this.p.status
  }
  get ConfigFiles(): string {
    return this.p.configFiles
  }
  toJSON(): Record<string, unknown> {
    return {Name: this.Name, Status: this.Status, ConfigFiles: this.ConfigFiles}
  }
}

export const COMPOSE_IMAGES_FORMAT: ListingFormat = {
  defaultTable: '{{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}',
  headers: {ContainerName: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE'},
}

export interface ImageRowData {
  container: string
  repository: string
  tag: string
  id: string
  size: string
}

export class ComposeImageRow {
  constructor(readonly d: ImageRowData) {}
  get ContainerName(): string {
    return this.d.container
  }
  get Repository(): string {
    return this.d.repository
  }
  get Tag(): string {
    return this.d.tag
  }
  get ID(): string {
    return this.d.id
  }
  get Size(): string {
    return this.d.size
  }
  toJSON(): Record<string, unknown> {
    return {ContainerName: this.ContainerName, Repository: this.Repository, Tag: this.Tag, ID: this.ID, Size: this.Size}
  }
}

export {L}
