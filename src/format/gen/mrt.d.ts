import * as $protobuf from "protobufjs";
import Long = require("long");

/** Namespace mrt. */
export namespace mrt {

    /** Order enum. */
    enum Order {

        /** LAYER_MAJOR value */
        LAYER_MAJOR = 0,

        /** COARSE_FIRST value */
        COARSE_FIRST = 1
    }

    /** PriorKind enum. */
    enum PriorKind {

        /** STATIC value */
        STATIC = 0,

        /** RCM value */
        RCM = 1,

        /** RCM_SHARED_LATE value */
        RCM_SHARED_LATE = 2,

        /** RCM_LATE_CONTEXTS value */
        RCM_LATE_CONTEXTS = 3,

        /** RCM_COARSE value */
        RCM_COARSE = 4
    }

    /**
     * Properties of a Layout.
     * @deprecated Use mrt.Layout.$Properties instead.
     */
    interface ILayout extends mrt.Layout.$Properties {
    }

    /** Represents a Layout. */
    class Layout {

        /**
         * Constructs a new Layout.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Layout.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Layout gridW. */
        gridW: number;

        /** Layout gridH. */
        gridH: number;

        /** Layout tokens. */
        tokens: number;

        /** Layout levels. */
        levels: number;

        /** Layout baseFactor. */
        baseFactor: number;

        /** Layout order. */
        order: mrt.Order;

        /** Layout coarseLayers. */
        coarseLayers: number;

        /**
         * Encodes the specified Layout message. Does not implicitly {@link mrt.Layout.verify|verify} messages.
         * @param message Layout message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Layout.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Layout message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Layout & mrt.Layout.$Shape} Layout
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Layout & mrt.Layout.$Shape;
    }

    namespace Layout {

        /** Properties of a Layout. */
        interface $Properties {

            /** Layout gridW */
            gridW?: (number|null);

            /** Layout gridH */
            gridH?: (number|null);

            /** Layout tokens */
            tokens?: (number|null);

            /** Layout levels */
            levels?: (number|null);

            /** Layout baseFactor */
            baseFactor?: (number|null);

            /** Layout order */
            order?: (mrt.Order|null);

            /** Layout coarseLayers */
            coarseLayers?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Layout. */
        type $Shape = mrt.Layout.$Properties;
    }

    /**
     * Properties of a Placeholder.
     * @deprecated Use mrt.Placeholder.$Properties instead.
     */
    interface IPlaceholder extends mrt.Placeholder.$Properties {
    }

    /** Represents a Placeholder. */
    class Placeholder {

        /**
         * Constructs a new Placeholder.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Placeholder.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Placeholder mime. */
        mime: string;

        /** Placeholder width. */
        width: number;

        /** Placeholder height. */
        height: number;

        /** Placeholder data. */
        data: Uint8Array;

        /** Placeholder codec. */
        codec: number;

        /**
         * Encodes the specified Placeholder message. Does not implicitly {@link mrt.Placeholder.verify|verify} messages.
         * @param message Placeholder message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Placeholder.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Placeholder message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Placeholder & mrt.Placeholder.$Shape} Placeholder
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Placeholder & mrt.Placeholder.$Shape;
    }

    namespace Placeholder {

        /** Properties of a Placeholder. */
        interface $Properties {

            /** Placeholder mime */
            mime?: (string|null);

            /** Placeholder width */
            width?: (number|null);

            /** Placeholder height */
            height?: (number|null);

            /** Placeholder data */
            data?: (Uint8Array|null);

            /** Placeholder codec */
            codec?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Placeholder. */
        type $Shape = mrt.Placeholder.$Properties;
    }

    /**
     * Properties of a FinalInfo.
     * @deprecated Use mrt.FinalInfo.$Properties instead.
     */
    interface IFinalInfo extends mrt.FinalInfo.$Properties {
    }

    /** Represents a FinalInfo. */
    class FinalInfo {

        /**
         * Constructs a new FinalInfo.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.FinalInfo.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** FinalInfo mime. */
        mime: string;

        /** FinalInfo byteLength. */
        byteLength: number;

        /**
         * Encodes the specified FinalInfo message. Does not implicitly {@link mrt.FinalInfo.verify|verify} messages.
         * @param message FinalInfo message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.FinalInfo.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a FinalInfo message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.FinalInfo & mrt.FinalInfo.$Shape} FinalInfo
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.FinalInfo & mrt.FinalInfo.$Shape;
    }

    namespace FinalInfo {

        /** Properties of a FinalInfo. */
        interface $Properties {

            /** FinalInfo mime */
            mime?: (string|null);

            /** FinalInfo byteLength */
            byteLength?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a FinalInfo. */
        type $Shape = mrt.FinalInfo.$Properties;
    }

    /**
     * Properties of a Header.
     * @deprecated Use mrt.Header.$Properties instead.
     */
    interface IHeader extends mrt.Header.$Properties {
    }

    /** Represents a Header. */
    class Header {

        /**
         * Constructs a new Header.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Header.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Header width. */
        width: number;

        /** Header height. */
        height: number;

        /** Header window. */
        window: number;

        /** Header placeholder. */
        placeholder?: (mrt.Placeholder.$Properties|null);

        /** Header imageWidth. */
        imageWidth: number;

        /** Header imageHeight. */
        imageHeight: number;

        /**
         * Encodes the specified Header message. Does not implicitly {@link mrt.Header.verify|verify} messages.
         * @param message Header message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Header.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Header message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Header & mrt.Header.$Shape} Header
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Header & mrt.Header.$Shape;
    }

    namespace Header {

        /** Properties of a Header. */
        interface $Properties {

            /** Header width */
            width?: (number|null);

            /** Header height */
            height?: (number|null);

            /** Header window */
            window?: (number|null);

            /** Header placeholder */
            placeholder?: (mrt.Placeholder.$Properties|null);

            /** Header imageWidth */
            imageWidth?: (number|null);

            /** Header imageHeight */
            imageHeight?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Header. */
        type $Shape = mrt.Header.$Properties;
    }

    /**
     * Properties of an Index.
     * @deprecated Use mrt.Index.$Properties instead.
     */
    interface IIndex extends mrt.Index.$Properties {
    }

    /** Represents an Index. */
    class Index {

        /**
         * Constructs a new Index.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Index.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Index modelId. */
        modelId: string;

        /** Index modelHash. */
        modelHash: Uint8Array;

        /** Index layout. */
        layout?: (mrt.Layout.$Properties|null);

        /** Index prior. */
        prior: mrt.PriorKind;

        /** Index chunkCount. */
        chunkCount: number;

        /** Index chunkSizes. */
        chunkSizes: Uint8Array;

        /** Index chunkTokenStep. */
        chunkTokenStep: number;

        /** Index chunkTokens. */
        chunkTokens: number[];

        /** Index chunkLayers. */
        chunkLayers: number[];

        /** Index chunkRule. */
        chunkRule: number;

        /** Index coder. */
        coder: number;

        /** Index chunkFraming. */
        chunkFraming: number;

        /** Index final. */
        final?: (mrt.FinalInfo.$Properties|null);

        /** Index contentHash. */
        contentHash: Uint8Array;

        /** Index encoderOptions. */
        encoderOptions: string;

        /**
         * Encodes the specified Index message. Does not implicitly {@link mrt.Index.verify|verify} messages.
         * @param message Index message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Index.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes an Index message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Index & mrt.Index.$Shape} Index
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Index & mrt.Index.$Shape;
    }

    namespace Index {

        /** Properties of an Index. */
        interface $Properties {

            /** Index modelId */
            modelId?: (string|null);

            /** Index modelHash */
            modelHash?: (Uint8Array|null);

            /** Index layout */
            layout?: (mrt.Layout.$Properties|null);

            /** Index prior */
            prior?: (mrt.PriorKind|null);

            /** Index chunkCount */
            chunkCount?: (number|null);

            /** Index chunkSizes */
            chunkSizes?: (Uint8Array|null);

            /** Index chunkTokenStep */
            chunkTokenStep?: (number|null);

            /** Index chunkTokens */
            chunkTokens?: (number[]|null);

            /** Index chunkLayers */
            chunkLayers?: (number[]|null);

            /** Index chunkRule */
            chunkRule?: (number|null);

            /** Index coder */
            coder?: (number|null);

            /** Index chunkFraming */
            chunkFraming?: (number|null);

            /** Index final */
            final?: (mrt.FinalInfo.$Properties|null);

            /** Index contentHash */
            contentHash?: (Uint8Array|null);

            /** Index encoderOptions */
            encoderOptions?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of an Index. */
        type $Shape = mrt.Index.$Properties;
    }

    /**
     * Properties of a Chunk.
     * @deprecated Use mrt.Chunk.$Properties instead.
     */
    interface IChunk extends mrt.Chunk.$Properties {
    }

    /** Represents a Chunk. */
    class Chunk {

        /**
         * Constructs a new Chunk.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Chunk.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Chunk payload. */
        payload: Uint8Array;

        /** Chunk crc32. */
        crc32: number;

        /**
         * Encodes the specified Chunk message. Does not implicitly {@link mrt.Chunk.verify|verify} messages.
         * @param message Chunk message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Chunk.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Chunk message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Chunk & mrt.Chunk.$Shape} Chunk
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Chunk & mrt.Chunk.$Shape;
    }

    namespace Chunk {

        /** Properties of a Chunk. */
        interface $Properties {

            /** Chunk payload */
            payload?: (Uint8Array|null);

            /** Chunk crc32 */
            crc32?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Chunk. */
        type $Shape = mrt.Chunk.$Properties;
    }

    /**
     * Properties of a Final.
     * @deprecated Use mrt.Final.$Properties instead.
     */
    interface IFinal extends mrt.Final.$Properties {
    }

    /** Represents a Final. */
    class Final {

        /**
         * Constructs a new Final.
         * @param [properties] Properties to set
         */
        constructor(properties?: mrt.Final.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** Final data. */
        data: Uint8Array;

        /** Final crc32. */
        crc32: number;

        /**
         * Encodes the specified Final message. Does not implicitly {@link mrt.Final.verify|verify} messages.
         * @param message Final message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: mrt.Final.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Final message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {mrt.Final & mrt.Final.$Shape} Final
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): mrt.Final & mrt.Final.$Shape;
    }

    namespace Final {

        /** Properties of a Final. */
        interface $Properties {

            /** Final data */
            data?: (Uint8Array|null);

            /** Final crc32 */
            crc32?: (number|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a Final. */
        type $Shape = mrt.Final.$Properties;
    }
}
